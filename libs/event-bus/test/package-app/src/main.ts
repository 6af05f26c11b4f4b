import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EventPublisher, EventValidationError } from '@nest-streams/event-bus';
import { EventStore, toStreamName, type Event } from '@nest-streams/event-store';
import { AppModule } from './app.module';
import { OrderPlaced } from './order-placed.event';
import { ShippingHandlers } from './shipping.module';

type AccountOpened = Event<'AccountOpened', { owner: string }>;

/** Resolves once `done()` holds, or rejects after `timeoutMs`. */
async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    const publisher = app.get(EventPublisher);
    const shipping = app.get(ShippingHandlers);

    // A valid event: appended to the stream `orders`, then handled by the group `shipping`.
    const published = await publisher.publish(new OrderPlaced({ orderId: 'order-1', quantity: 2 }));
    await until('the shipping handler', () => shipping.received.length > 0);

    // An invalid one: refused before anything is written, naming each bad field.
    let refused: { eventType: string; fields: string[]; message: string } | undefined;
    try {
      await publisher.publish(new OrderPlaced({ orderId: 'order-2', quantity: 0 }));
    } catch (error) {
      if (!(error instanceof EventValidationError)) throw error;
      refused = { eventType: error.eventType, fields: error.fields.map((f) => f.field), message: error.message };
    }

    // The event store: append to a new stream, read it back.
    const store = app.get(EventStore);
    const stream = toStreamName('Account', `acc-${Date.now()}`);
    const appended = await store.append<AccountOpened>(
      stream,
      { type: 'AccountOpened', data: { owner: 'ada' } },
      { expectedVersion: 'no-stream' },
    );
    const read = await store.readForward<AccountOpened>(stream);

    console.log(
      JSON.stringify({
        published: { stream: published.stream, type: published.envelope.type, id: published.envelope.id },
        received: shipping.received,
        refused,
        eventStore: {
          version: appended.version,
          read: read.map((e) => ({ type: e.type, version: e.version, owner: e.data.owner })),
        },
      }),
    );
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
