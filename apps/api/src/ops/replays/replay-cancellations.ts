import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_STORE, ServiceStore } from '@app/platform';

const KEEP_SECONDS = 7 * 24 * 3600;

/**
 * Cancellation flags of replays, in Redis so that the process running a replay sees a cancel
 * sent to any instance (it polls every CANCEL_POLL_MS).
 */
@Injectable()
export class ReplayCancellations {
  constructor(@Inject(SERVICE_STORE) private readonly store: ServiceStore) {}

  async request(id: string): Promise<void> {
    await this.store.redis.set(this.key(id), new Date().toISOString(), 'EX', KEEP_SECONDS);
  }

  async requested(id: string): Promise<boolean> {
    return (await this.store.redis.exists(this.key(id))) === 1;
  }

  private key(id: string): string {
    return this.store.key('replay', id, 'cancel');
  }
}
