import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the proxy does with the bytes of the connections it holds. */
export type ProxyMode = 'pass' | 'drop-replies' | 'drop-requests';

/**
 * A TCP proxy in front of a redis-server that can lose a connection at a chosen moment: forward
 * both ways (`pass`), forward requests but drop Redis's replies (`drop-replies`: the commands run,
 * their client never hears of it), or drop requests (`drop-requests`: nothing runs), and `cut()`
 * every connection it holds (the client sees its connection close and reconnects through it).
 */
export class CuttingProxy {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly pairs: Set<[Socket, Socket]>,
    private readonly state: { mode: ProxyMode },
  ) {}

  get mode(): ProxyMode {
    return this.state.mode;
  }

  set mode(mode: ProxyMode) {
    this.state.mode = mode;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<CuttingProxy> {
    const pairs = new Set<[Socket, Socket]>();
    const state: { mode: ProxyMode } = { mode: 'pass' };
    const server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      client.on('data', (chunk) => {
        if (state.mode !== 'drop-requests') upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (state.mode !== 'drop-replies') client.write(chunk);
      });
      const end = (): void => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new CuttingProxy(server, (server.address() as AddressInfo).port, pairs, state);
  }

  /** Closes every connection it holds (new ones are accepted, in the current mode). */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
