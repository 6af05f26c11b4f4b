import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash, randomBytes } from 'node:crypto';
import type { Environment } from '@app/platform';

export type OpsRole = 'reader' | 'operator';

/**
 * The operations API's keys, from `API_KEYS=reader:<key>,operator:<key>,...` (format checked at
 * startup by the environment validation). Without API_KEYS a random operator key is generated
 * and logged once, so `/ops` is never open to anonymous callers.
 */
@Injectable()
export class OpsApiKeys {
  private readonly logger = new Logger('OpsApi');
  /** sha256 of each key -> role: a lookup never compares raw secrets character by character. */
  private readonly roles = new Map<string, OpsRole>();
  /** The generated development key, when API_KEYS is unset. */
  readonly developmentKey?: string;

  constructor(config: ConfigService<Environment, true>) {
    const configured = config.get('API_KEYS', { infer: true });
    if (configured) {
      for (const entry of configured.split(',')) {
        const at = entry.indexOf(':');
        this.roles.set(keyDigest(entry.slice(at + 1)), entry.slice(0, at) as OpsRole);
      }
      return;
    }
    this.developmentKey = `dev-${randomBytes(24).toString('hex')}`;
    this.roles.set(keyDigest(this.developmentKey), 'operator');
    this.logger.warn(
      `API_KEYS is not set: generated a development operator key for /ops, valid until this process exits: ${this.developmentKey}\n` +
        'Send it as the x-api-key header. Configure keys with API_KEYS=reader:<key>,operator:<key> (several of each allowed, ' +
        '16+ characters each, e.g. from `openssl rand -hex 24`).',
    );
  }

  /** The role of a key, or undefined for an unknown one. */
  roleOf(key: string | undefined): OpsRole | undefined {
    return key ? this.roles.get(keyDigest(key)) : undefined;
  }

  /** The role of the key with this sha256 (a console session keeps only the digest), or undefined. */
  roleOfDigest(digest: string): OpsRole | undefined {
    return this.roles.get(digest);
  }

  /** Whether `role` may do what `needed` requires (operator includes reader). */
  static allows(role: OpsRole, needed: OpsRole): boolean {
    return role === 'operator' || needed === 'reader';
  }
}

/** sha256 of a key, in hex: how keys are looked up and how a session remembers its key. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
