import { EventContract } from '../decorators/event-contract.decorator';
import { contractRegistry } from '../contracts/contract-registry';
import { handlerError } from './handler-error';
import {
  contractForRoute,
  defaultPatternRouter,
  eventPattern,
  routeOf,
  unwrapPayload,
  wrapPayload,
} from './pattern-route';
import { requestRouteOf } from './request-route';

@EventContract({ type: 'RouteSpecShipped', stream: 'route-spec-parcels' })
class RouteSpecShipped {}

describe('pattern routing', () => {
  it('maps a string pattern to the stream and type of its name, and a { stream, type } object to those', () => {
    expect(defaultPatternRouter('invoice.paid')).toEqual({ stream: 'invoice.paid', type: 'invoice.paid' });
    expect(defaultPatternRouter('{"stream":"orders","type":"OrderPlaced"}')).toEqual({
      stream: 'orders',
      type: 'OrderPlaced',
    });
    // NOTE: any other object is just its JSON, which no valid stream name matches.
    expect(defaultPatternRouter('{"cmd":"sum"}')).toEqual({ stream: '{"cmd":"sum"}', type: '{"cmd":"sum"}' });
  });

  it('refuses a pattern that maps to an invalid name, or to another stream than its contract says', () => {
    expect(() => routeOf('{"cmd":"sum"}')).toThrow(/cannot be mapped to a stream: its stream would be/);
    expect(() => routeOf('has space')).toThrow(/`route` option/);
    expect(() => routeOf('{"stream":"elsewhere","type":"RouteSpecShipped"}')).toThrow(
      /the contract of RouteSpecShipped says stream route-spec-parcels/,
    );
    expect(routeOf('x', () => ({ stream: 'all-events', type: 'x' }))).toEqual({ stream: 'all-events', type: 'x' });
  });

  it('builds a contract pattern and reuses registered contracts, registering a field-less one for a new type', () => {
    expect(eventPattern(RouteSpecShipped)).toEqual({ stream: 'route-spec-parcels', type: 'RouteSpecShipped' });
    expect(contractForRoute({ stream: 'route-spec-parcels', type: 'RouteSpecShipped' })).toBe(RouteSpecShipped);
    const made = contractForRoute({ stream: 'route-spec.new', type: 'route-spec.new' });
    expect(contractRegistry.newest('route-spec.new')).toMatchObject({
      cls: made,
      meta: { stream: 'route-spec.new', version: 1 },
    });
    expect(contractForRoute({ stream: 'route-spec.new', type: 'route-spec.new' })).toBe(made);
  });

  it('wraps a non-object payload under "@value" and unwraps it, leaving objects as they are', () => {
    for (const payload of [true, 0, 'text', [1, 2], null]) {
      const data = wrapPayload(payload);
      expect(data).toEqual({ '@value': payload });
      expect(unwrapPayload(data)).toEqual(payload);
    }
    expect(wrapPayload(undefined)).toEqual({ '@value': null });
    const object = { orderId: 'o-1', '@value': 'kept' };
    expect(wrapPayload(object)).toBe(object);
    expect(unwrapPayload(object)).toBe(object);
  });
});

describe('request routing', () => {
  it('names the request stream of a pattern rpc.<pattern>, or a valid, stable name with a hash for any other', () => {
    expect(requestRouteOf('slow.sum')).toEqual({ stream: 'rpc.slow.sum', type: 'rpc.slow.sum' });
    const sum = requestRouteOf('{"cmd":"sum"}');
    expect(sum.stream).toMatch(/^rpc\._cmd_:_sum_-[0-9a-f]{8}$/);
    expect(requestRouteOf('{"cmd":"sum"}')).toEqual(sum);
    expect(requestRouteOf('{"cmd":"sum!"}').stream).not.toBe(sum.stream);
    expect(requestRouteOf('x'.repeat(500)).stream.length).toBeLessThanOrEqual(200);
  });
});

describe('handler errors', () => {
  it('keeps an Error, and turns an RPC error object into an Error with its message', () => {
    const error = new TypeError('bad');
    expect(handlerError(error)).toBe(error);
    const rpc = handlerError({ status: 'error', message: 'Internal server error' });
    expect(rpc.message).toBe('Internal server error');
    expect(rpc.cause).toEqual({ status: 'error', message: 'Internal server error' });
    expect(handlerError({ code: 7 }).message).toBe('{"code":7}');
    expect(handlerError('plain').message).toBe('plain');
  });
});
