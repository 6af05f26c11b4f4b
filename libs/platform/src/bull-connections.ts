import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';

/**
 * The Cluster clients handed to BullMQ (its queues share one; BullMQ does not close a connection
 * it was given): closed at application shutdown, after the workers (they close earlier, in
 * beforeApplicationShutdown).
 */
@Injectable()
export class BullConnections implements OnApplicationShutdown {
  private readonly clusters: Cluster[] = [];

  track<T extends Cluster | object>(connection: T): T {
    if (typeof (connection as Cluster).nodes === 'function') this.clusters.push(connection as Cluster);
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    // NOTE: bounded: QUIT to a node that is gone (a dead master) waits in its offline queue forever.
    await Promise.all(
      this.clusters.splice(0).map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        const quit = c.quit().then(
          () => true,
          () => false,
        );
        const ended = await Promise.race([
          quit,
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1_000))),
        ]);
        clearTimeout(timer);
        if (!ended) c.disconnect();
      }),
    );
  }
}

@Module({ providers: [BullConnections], exports: [BullConnections] })
export class BullConnectionsModule {}
