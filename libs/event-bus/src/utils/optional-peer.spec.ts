import { optionalPeer, requiredPeer } from './optional-peer';

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find module '${name}' from 'somewhere.js'`), { code: 'MODULE_NOT_FOUND' });
}

describe('optional peers', () => {
  it('loads an installed peer', () => {
    expect(optionalPeer<{ a: number }>('installed-peer', () => ({ a: 1 }))).toEqual({ a: 1 });
  });

  it('is undefined for a peer that is not installed, and does not look for it again', () => {
    const load = jest.fn(() => {
      throw notFound('absent-peer');
    });
    expect(optionalPeer('absent-peer', load)).toBeUndefined();
    expect(optionalPeer('absent-peer', load)).toBeUndefined();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('rethrows when the peer is there but fails to load, or misses a module of its own', () => {
    expect(() =>
      optionalPeer('broken-peer', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(() =>
      optionalPeer('peer-missing-a-dependency', () => {
        throw notFound('its-dependency');
      }),
    ).toThrow("Cannot find module 'its-dependency'");
  });

  it('says what to install, or how to do without, when a required peer is missing', () => {
    expect(() =>
      requiredPeer(
        'prom-client-absent',
        () => {
          throw notFound('prom-client-absent');
        },
        'metrics need it',
      ),
    ).toThrow(
      'prom-client-absent is not installed (an optional peer dependency of @nest-streams/event-bus): metrics need it',
    );
  });
});
