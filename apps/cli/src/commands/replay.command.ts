import { SingleBar } from 'cli-progress';
import { Command, Help, Option } from 'nest-commander';
import { InvalidArgumentError, positiveInt, streamPosition } from '../args';
import { errorLines, formatEta, formatRate, progressText, replayLine } from '../format';
import { isRateLimited, messageText, OpsHttpError, seg } from '../ops-client';
import {
  CommandContext,
  ConnectionOptions,
  json,
  onInterrupt,
  OpsCommand,
  rateLimitPause,
  sleep,
} from '../ops-command';
import { FINAL_REPLAY_STATES, REPLAY_TARGETS, ReplayRequestBody, ReplayStatus, ReplayTargetKind } from '../ops.types';

interface ReplayAccepted {
  id: string;
  state: ReplayStatus['state'];
}

interface ReplayOptions extends ConnectionOptions {
  group: string;
  target: ReplayTargetKind;
  from?: string;
  to?: string;
  dryRun?: boolean;
  rate?: number;
  bypassDedupe?: boolean;
  wait: boolean;
}

export const REPLAY_POLL_MS = 250;
/** Exit code after Ctrl-C (128 + SIGINT). */
export const INTERRUPTED = 130;

@Command({
  name: 'replay',
  arguments: '<stream>',
  argsDescription: { stream: 'stream to replay from, e.g. orders' },
  description:
    "replay a range of a stream to one group's handlers, move a group's position, or build a new group; waits with a progress bar",
})
export class ReplayCommand extends OpsCommand<ReplayOptions> {
  @Option({ flags: '--group <group>', description: 'the consumer group the replay is for', required: true })
  parseGroup(value: string): string {
    return value;
  }

  @Option({
    flags: '--target <kind>',
    description:
      "handlers: re-deliver the range to the group's handlers only; position: move the group back (or forward) to --from; new-group: create the group at --from",
    choices: REPLAY_TARGETS,
    defaultValue: 'handlers',
  })
  parseTarget(value: string): string {
    // NOTE: nest-commander replaces commander's choices check with this parser, so it checks them itself.
    if (!(REPLAY_TARGETS as string[]).includes(value))
      throw new InvalidArgumentError(`Allowed choices are ${REPLAY_TARGETS.join(', ')}.`);
    return value;
  }

  @Option({ flags: '--from <id|iso>', description: 'first stream id or time (default: the start of the stream)' })
  parseFrom(value: string): string {
    return streamPosition(value);
  }

  @Option({ flags: '--to <id|iso>', description: 'last stream id or time, inclusive (default: the end of the stream)' })
  parseTo(value: string): string {
    return streamPosition(value);
  }

  @Option({ flags: '--dry-run', description: 'only count what would be replayed' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--rate <n>', description: 'at most this many events per second (default: as fast as it goes)' })
  parseRate(value: string): number {
    return positiveInt(value);
  }

  @Option({
    flags: '--bypass-dedupe',
    description: 'run even events the group already handled (its dedupe guard would skip them)',
  })
  parseBypassDedupe(): boolean {
    return true;
  }

  @Option({ flags: '--no-wait', description: 'print the replay id and return without waiting' })
  parseNoWait(): boolean {
    return false;
  }

  protected async execute([stream]: string[], options: ReplayOptions, ctx: CommandContext): Promise<number> {
    const body: ReplayRequestBody = {
      stream,
      from: options.from,
      to: options.to,
      target: { kind: options.target, group: options.group },
      dryRun: options.dryRun === true,
      ratePerSec: options.rate,
      bypassDedupe: options.bypassDedupe === true,
    };
    if (options.wait === false) {
      const started = await ctx.client.post<ReplayAccepted>('/ops/replays', body);
      ctx.out(ctx.json ? json(started) : `replay ${started.id} ${started.state}`);
      return 0;
    }
    // NOTE: Ctrl-C is caught from before the request: a replay started while it was in flight is cancelled too.
    const interrupted = new AbortController();
    const dispose = onInterrupt(() => interrupted.abort());
    try {
      const started = await ctx.client.post<ReplayAccepted>('/ops/replays', body);
      const final = await this.follow(started.id, ctx, interrupted.signal);
      if (final === INTERRUPTED) return INTERRUPTED;
      ctx.out(ctx.json ? json(final) : summary(body, final));
      return final.state === 'completed' ? 0 : 1;
    } finally {
      dispose();
    }
  }

  /** Polls the replay until it ends; once `interrupted`, asks the server to cancel it. */
  private async follow(
    id: string,
    ctx: CommandContext,
    interrupted: AbortSignal,
  ): Promise<ReplayStatus | typeof INTERRUPTED> {
    const progress = createProgress(ctx);
    try {
      while (!interrupted.aborted) {
        let status: ReplayStatus;
        try {
          status = await ctx.client.get<ReplayStatus>(`/ops/replays/${seg(id)}`, undefined, interrupted);
        } catch (error) {
          if (interrupted.aborted) break;
          if (!isRateLimited(error)) throw error;
          await sleep(rateLimitPause(error, ctx), interrupted);
          continue;
        }
        progress.update(status);
        if (FINAL_REPLAY_STATES.includes(status.state)) return status;
        await sleep(REPLAY_POLL_MS, interrupted);
      }
    } finally {
      progress.stop();
    }
    await cancel(id, ctx);
    return INTERRUPTED;
  }

  @Help('after')
  examples(): string {
    return `
Waits until the replay ends, with a progress bar (plain lines when stdout is not a terminal).
With --json, progress goes to stderr and stdout gets the final status as JSON.
Ctrl-C while waiting cancels the replay on the server and exits 130.
Exit code: 0 completed, 1 cancelled or failed (or a bad request), 2 server or network failure.

Examples:
  $ npm run -s cli -- replay orders --group analytics --from 2024-05-01T00:00:00Z --dry-run
  $ npm run -s cli -- replay orders --group email --from 1714557600000-0 --to 1714561200000-0 --rate 200
  $ npm run -s cli -- replay orders --group inventory --target position --from 2024-05-01T10:00:00Z
  $ npm run -s cli -- replay orders --group analytics-v2 --target new-group --no-wait`;
  }
}

/** Asks the server to cancel; a failure to do so is reported, the exit code stays 130. */
async function cancel(id: string, ctx: CommandContext): Promise<void> {
  ctx.err(`interrupted: cancelling replay ${id}...`);
  try {
    const status = await ctx.client.delete<ReplayStatus>(`/ops/replays/${seg(id)}`);
    // NOTE: a running replay stops within ~100 ms of the request; the answer may still say running.
    if (status.state === 'cancelled') ctx.err(`replay ${id} cancelled after ${status.done}/${status.total} entries`);
    else ctx.err(`replay ${id}: cancel requested at ${status.done}/${status.total} entries (it stops within moments)`);
  } catch (error) {
    if (error instanceof OpsHttpError && error.status === 409)
      ctx.err(`replay ${id} had finished already: ${messageText(error.body.message)}`);
    else
      ctx.err(
        `could not cancel replay ${id}: ${errorLines(error)
          .join(' ')
          .replace(/^error: /, '')}`,
      );
  }
}

function summary(req: ReplayRequestBody, status: ReplayStatus): string {
  const to = `group ${req.target.group} (${req.target.kind})`;
  if (status.state === 'completed') {
    if (req.dryRun)
      return `dry run: ${status.total} entries of ${req.stream} would be replayed to ${to}; nothing changed (replay ${status.id})`;
    return `replay ${status.id} completed: ${status.done}/${status.total} entries of ${req.stream} to ${to}`;
  }
  return `replay ${status.id} ${status.state} after ${status.done}/${status.total} entries${status.error ? `: ${status.error}` : ''}`;
}

interface Progress {
  update(status: ReplayStatus): void;
  stop(): void;
}

/** A cli-progress bar on a terminal; otherwise a plain line per state change, at most one a second while running. */
function createProgress(ctx: CommandContext): Progress {
  if (!ctx.json && process.stdout.isTTY) {
    const bar = new SingleBar({
      stream: process.stdout,
      format: 'replay {id} {state} [{bar}] {counts} | {rate} | eta {left}',
      hideCursor: true,
      clearOnComplete: false,
    });
    let started = false;
    return {
      update(status) {
        const payload = {
          id: status.id,
          state: status.state.padEnd(9),
          counts: progressText(status.done, status.total),
          rate: status.ratePerSec ? `${formatRate(status.ratePerSec)}/s` : '-/s',
          left: formatEta(status.etaSeconds),
        };
        // NOTE: the total is 0 until the server has counted the range: an empty bar, not a full one.
        const [value, total] = status.total > 0 ? [status.done, status.total] : [0, 1];
        if (!started) {
          bar.start(total, value, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(value, payload);
        }
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  const write = ctx.json ? ctx.err : ctx.out;
  let lastState = '';
  let lastDone = -1;
  let lastAt = 0;
  return {
    update(status) {
      // NOTE: the final state is the summary's to print.
      if (FINAL_REPLAY_STATES.includes(status.state)) return;
      const changed = status.state !== lastState;
      const moved = status.done !== lastDone && Date.now() - lastAt >= 1000;
      if (changed || moved) {
        write(replayLine(status));
        lastState = status.state;
        lastDone = status.done;
        lastAt = Date.now();
      }
    },
    stop() {},
  };
}
