import type Redis from 'ioredis';
import request from 'supertest';
import { keysMatching } from '../../../../test/support/redis';
import { OPERATOR_KEY, READER_KEY } from './ops-app';

export type Role = 'reader' | 'operator' | 'none';

/** supertest against the app's URL, with the key of a role in x-api-key. */
export function opsClient(url: string) {
  const withKey = (test: request.Test, role: Role): request.Test =>
    role === 'none' ? test : test.set('x-api-key', role === 'reader' ? READER_KEY : OPERATOR_KEY);
  return {
    get: (path: string, role: Role = 'reader') => withKey(request(url).get(path), role),
    post: (path: string, body?: object, role: Role = 'operator') =>
      withKey(request(url).post(path), role).send(body ?? {}),
    put: (path: string, body?: object, role: Role = 'operator') =>
      withKey(request(url).put(path), role).send(body ?? {}),
    delete: (path: string, role: Role = 'operator') => withKey(request(url).delete(path), role),
  };
}

/** Every key of a namespace with its type and a digest of its content (bull queues aside: their workers tick). */
export async function namespaceSnapshot(redis: Redis, namespace: string): Promise<Record<string, string>> {
  // NOTE: on Redis Cluster the namespace's keys start with its hash tag `{<namespace>}:`, on any master.
  const found = [...(await keysMatching(redis, `${namespace}:*`)), ...(await keysMatching(redis, `{${namespace}}:*`))];
  const keys = found.filter((k) => !k.startsWith(`${namespace}:bull:`) && !k.startsWith(`{${namespace}}:bull:`));
  const snapshot: Record<string, string> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    if (type === 'stream') {
      const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
      snapshot[key] = `stream len=${await redis.xlen(key)} last=${last?.[0]} groups=${JSON.stringify(groups)}`;
    } else if (type === 'hash') {
      snapshot[key] = `hash ${JSON.stringify(await redis.hgetall(key))}`;
    } else {
      snapshot[key] = type;
    }
  }
  return snapshot;
}

/** The error shape every /ops error has. */
export function expectOpsError(body: unknown, statusCode: number): void {
  const b = body as Record<string, unknown>;
  if (typeof b !== 'object' || b === null) throw new Error(`not a JSON error body: ${JSON.stringify(body)}`);
  expect(b.statusCode).toBe(statusCode);
  expect(typeof b.error).toBe('string');
  expect(typeof b.message).toBe('string');
  const allowed = ['statusCode', 'error', 'message', 'details'];
  expect(Object.keys(b).filter((k) => !allowed.includes(k))).toEqual([]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
