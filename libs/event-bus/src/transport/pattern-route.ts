import { contractRegistry, getContract } from '../contracts/contract-registry';
import { EventContract } from '../decorators/event-contract.decorator';
import type { EventClass } from '../interfaces/event-contract.interface';
import { BAD_PATTERN, STREAM_OF_CONTRACT } from './transport.messages';
import { VALUE_KEY } from './redis-streams.constants';

/** Where the events of one pattern go: the platform's stream and event type. */
export interface PatternRoute {
  stream: string;
  type: string;
}

/** A pattern as Nest normalizes it (a string, or an object's JSON with sorted keys), mapped to its stream and type. */
export type PatternRouter = (pattern: string) => PatternRoute;

const NAME = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * The default mapping: a `{ stream, type }` object pattern goes to that stream with that type (the
 * library's own contracts: see {@link eventPattern}); any other pattern `p` to the stream `p` with
 * type `p`, one stream per pattern, so a service reads only the streams of the patterns it handles.
 */
export const defaultPatternRouter: PatternRouter = (pattern) => {
  const object = parseObject(pattern);
  if (object) {
    const { stream, type, ...rest } = object;
    if (typeof stream === 'string' && typeof type === 'string' && Object.keys(rest).length === 0)
      return { stream, type };
  }
  return { stream: pattern, type: pattern };
};

/** The stream and type of `pattern` under `router`, checked; throws a message saying how to fix a pattern that maps to no valid name. */
export function routeOf(pattern: string, router: PatternRouter = defaultPatternRouter): PatternRoute {
  const route = router(pattern);
  for (const [what, value] of [
    ['stream', route.stream],
    ['type', route.type],
  ] as const) {
    if (!NAME.test(value)) throw new Error(BAD_PATTERN(pattern, `its ${what} would be "${value}"`));
  }
  const contract = contractRegistry.newest(route.type);
  if (contract && contract.meta.stream !== route.stream) {
    throw new Error(STREAM_OF_CONTRACT(pattern, route.type, route.stream, contract.meta.stream));
  }
  return route;
}

/**
 * The pattern of a library contract, for `@EventPattern(eventPattern(OrderPlaced))` and
 * `client.emit(eventPattern(OrderPlaced), data)`: `{ stream, type }` from its `@EventContract`.
 */
export function eventPattern(contract: EventClass): PatternRoute {
  const meta = getContract(contract);
  return { stream: meta.stream, type: meta.type };
}

/**
 * The contract the consumer machinery routes a type with: the registered one (a library contract),
 * else one registered here with no fields (payloads are not validated), version 1.
 */
export function contractForRoute(route: PatternRoute): EventClass {
  const known = contractRegistry.newest(route.type);
  if (known) return known.cls;
  const name = `EventPattern(${route.type})`;
  const cls = { [name]: class {} }[name] as unknown as EventClass;
  EventContract({ type: route.type, stream: route.stream })(cls as unknown as new () => object);
  return cls;
}

/** The `data` of an envelope for a payload: the object itself, or `{ "@value": payload }` for anything else. */
export function wrapPayload(payload: unknown): object {
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) return payload;
  return { [VALUE_KEY]: payload === undefined ? null : payload };
}

/** The payload an envelope's `data` carries (the inverse of {@link wrapPayload}). */
export function unwrapPayload(data: unknown): unknown {
  if (data !== null && typeof data === 'object') {
    const keys = Object.keys(data);
    if (keys.length === 1 && keys[0] === VALUE_KEY) return (data as Record<string, unknown>)[VALUE_KEY];
  }
  return data;
}

function parseObject(pattern: string): Record<string, unknown> | undefined {
  if (!pattern.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(pattern);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
