import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { activeTracing } from './setup-tracing';

/**
 * Says at startup whether spans are recorded and where they go, and exports the spans still
 * queued when the app closes: after the bus has finished its in-flight handlers
 * (`beforeApplicationShutdown`) and the HTTP server has stopped.
 */
@Injectable()
export class TracingLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');

  onApplicationBootstrap(): void {
    const tracing = activeTracing();
    if (tracing) this.logger.log(tracing.summary);
  }

  async onApplicationShutdown(): Promise<void> {
    // NOTE: a flush, not a shutdown: the provider is the process's, and a process (a test file) may create another app after this one.
    await activeTracing()?.flush();
  }
}
