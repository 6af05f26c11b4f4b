import { contractRegistry } from '../contracts/contract-registry';
import { ContractViolationError } from '../errors/contract-violation.error';
import { upcasterRegistry } from './upcaster-registry';
import { NO_UPCASTER, UNKNOWN_VERSION, UPCAST_FAILED } from './versioning.messages';

export type UpcastResult = { ok: true; value: object } | { ok: false; error: ContractViolationError };

/**
 * The payload of a `type` entry written as `version`, upcast to the newest registered version of
 * the type, one upcaster at a time. Fails with reason `unknown-version` (no contract for that
 * version), `no-upcaster` (a step of the chain is missing) or `upcast-failed` (an upcaster threw
 * or returned something other than an object). Validation is the caller's, against the newest contract.
 */
export function upcastToNewest(type: string, version: number, data: object): UpcastResult {
  const versions = contractRegistry.versions(type);
  const newest = versions[versions.length - 1]?.meta.version;
  if (!versions.some((c) => c.meta.version === version)) {
    return fail(
      'unknown-version',
      UNKNOWN_VERSION(
        type,
        version,
        versions.map((c) => c.meta.version),
      ),
    );
  }
  // NOTE: upcasters may modify what they get; the envelope's data must stay as on the wire.
  let value: object = newest === version ? data : structuredClone(data);
  for (let at = version; at < newest;) {
    const step = upcasterRegistry.find(type, at);
    if (!step) {
      const fromClass = contractRegistry.find(type, at)!.cls.name;
      const nextClass = versions.find((c) => c.meta.version > at)!.cls.name;
      return fail('no-upcaster', NO_UPCASTER(type, version, newest, at, fromClass, nextClass));
    }
    try {
      value = step.upcast(value);
    } catch (error) {
      return fail(
        'upcast-failed',
        UPCAST_FAILED(type, step.name, step.from, step.to, error instanceof Error ? error.message : String(error)),
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return fail('upcast-failed', UPCAST_FAILED(type, step.name, step.from, step.to, 'it did not return an object'));
    }
    at = step.to;
  }
  return { ok: true, value };
}

function fail(reason: string, message: string): UpcastResult {
  return { ok: false, error: new ContractViolationError(reason, message) };
}
