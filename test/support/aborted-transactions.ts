import { EventPublisher, OutgoingEvent } from '@nest-streams/event-bus';

type InTransaction = EventPublisher['inTransaction'];

/**
 * Makes Redis refuse the next `times` transactions of any EventPublisher (publish with `with`,
 * `ctx.commit()`) whose events `matches` picks: an unknown command is queued first, so Redis
 * answers EXECABORT and discards the whole MULTI, as it would a transaction it could not take.
 * Returns how many were refused so far, and a restore function.
 */
export function abortTransactions(
  matches: (events: Array<object | OutgoingEvent>) => boolean,
  times = 1,
): { refused: () => number; restore: () => void } {
  const original = EventPublisher.prototype.inTransaction;
  let refused = 0;
  const patched: InTransaction = function (this: EventPublisher, before, events, after) {
    if (refused >= times || !matches(events)) return original.call(this, before, events, after);
    refused++;
    return original.call(
      this,
      (tx) => {
        tx.call('NO-SUCH-COMMAND');
        before?.(tx);
      },
      events,
      after,
    );
  };
  EventPublisher.prototype.inTransaction = patched;
  return { refused: () => refused, restore: () => (EventPublisher.prototype.inTransaction = original) };
}

/** The event of an outbox item. */
export function eventOf(item: object | OutgoingEvent): object {
  return 'event' in item && item.constructor === Object ? (item as OutgoingEvent).event : item;
}
