import type { Cluster } from 'ioredis';
import { ArgumentsHost, Catch, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { PublishFailedError } from '@nest-streams/event-bus';

/** Seconds a client is asked to wait (`Retry-After`) when Redis is unavailable. */
export const REDIS_RETRY_AFTER_SECONDS = 1;

/** Redis did not answer (not connected, or no reply within the deadline): a 503, worth retrying. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Whether an error means "Redis is not reachable right now" rather than "this request is wrong":
 * ours (RedisUnavailableError, PublishFailedError), and what ioredis rejects commands with while
 * its connection is down (`MaxRetriesPerRequestError`, `Connection is closed.`, a socket error).
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof RedisUnavailableError || error instanceof PublishFailedError) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (
    error.message === 'Connection is closed.' ||
    error.message.startsWith("Stream isn't writeable") ||
    error.message === 'Command timed out'
  )
    return true;
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

/** What a 503 for an unreachable Redis says. */
export function redisUnavailableMessage(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `Redis is unavailable, retry in a moment (${reason})`;
}

/**
 * Runs `work` against a client that waits for Redis instead of failing (BullMQ's connections:
 * `maxRetriesPerRequest: null`), for an HTTP request: fails at once when the client is not
 * connected, and after `deadlineMs` when no answer came, instead of leaving the request hanging
 * until Redis is back. Nothing is sent while disconnected; a command sent just before the
 * connection dropped may still run once it is back.
 */
export async function whileRedisAnswers<T>(
  client: { status: string },
  work: () => Promise<T>,
  deadlineMs = 2_000,
): Promise<T> {
  if (client.status !== 'ready') throw new RedisUnavailableError(`not connected to Redis (${client.status})`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`no answer from Redis within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A BullMQ queue, as far as whileQueueAnswers needs it. */
interface RedisBackedQueue {
  getBackend(): { connection: { client: Promise<{ status: string }> } };
}

/** whileRedisAnswers on a BullMQ queue's connection (which waits for Redis: workers need that). */
export async function whileQueueAnswers<T>(
  queue: RedisBackedQueue,
  work: () => Promise<T>,
  deadlineMs?: number,
): Promise<T> {
  return whileRedisAnswers(await queue.getBackend().connection.client, work, deadlineMs);
}

/**
 * Closes a BullMQ worker at shutdown: gracefully (active jobs finish) while Redis answers, forced
 * while it does not, because a graceful close waits for Redis and would hold the process until
 * it is back. A forced close leaves active jobs to BullMQ's stalled-job check (run again, or failed
 * past the worker's maxStalledCount).
 */
export async function closeWorker(
  worker: RedisBackedQueue & { close(force?: boolean): Promise<void> },
  pingMs = 500,
): Promise<void> {
  const client = (await worker.getBackend().connection.client) as { status: string; ping(): Promise<unknown> };
  // NOTE: a client can still say 'ready' for a moment after the server died: ask it. On a cluster
  // one node answering says little: the cluster must say it is ok and every master answer, or a
  // graceful close waits forever on the slots of a dead master.
  const cluster = client as unknown as Partial<Pick<Cluster, 'nodes' | 'cluster'>>;
  const check =
    typeof cluster.nodes === 'function' ? () => clusterAnswers(client as unknown as Cluster) : () => client.ping();
  const answers = await whileRedisAnswers(client, check, pingMs).then(
    () => true,
    () => false,
  );
  await worker.close(!answers);
}

/** Resolves when the cluster says its state is ok and every master it knows answers PING; rejects otherwise. */
async function clusterAnswers(cluster: Cluster): Promise<void> {
  const info = String(await cluster.cluster('INFO'));
  if (!/cluster_state:ok/.test(info)) throw new Error('the cluster is not ok');
  await Promise.all(cluster.nodes('master').map((node) => node.ping()));
}

interface ReplyTo {
  setHeader(name: string, value: string): void;
  status(code: number): { json(body: unknown): void };
}

/**
 * Every app's last word on errors: Redis being unreachable is a 503 with `Retry-After`, in the
 * usual error shape; everything else goes to Nest's own handling. Controllers' own filters (the
 * ops API's, the ledger's) come first.
 */
@Catch()
export class RedisUnavailableFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http' || !isRedisUnavailable(exception)) return super.catch(exception, host);
    const response = host.switchToHttp().getResponse<ReplyTo>();
    response.setHeader('Retry-After', String(REDIS_RETRY_AFTER_SECONDS));
    response.status(HttpStatus.SERVICE_UNAVAILABLE).json({
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      message: redisUnavailableMessage(exception),
    });
  }
}
