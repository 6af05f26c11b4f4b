import { contractRegistry, type RegisteredContract } from '../contracts/contract-registry';
import { payloadJsonSchema } from '../validation/payload-validator';
import { compareSchemas, type Incompatibility } from './schema-compatibility';
import { upcasterRegistry } from './upcaster-registry';
import { INCOMPATIBLE_VERSION, MISSING_UPCASTER } from './versioning.messages';

/** The comparison of one version with the version before it. */
export interface VersionStep {
  type: string;
  from: RegisteredContract;
  to: RegisteredContract;
  problems: Incompatibility[];
  /** Optional fields `to` adds. */
  added: string[];
}

/** A version whose entries cannot reach the newest version for want of an upcaster. */
export interface MissingUpcaster {
  type: string;
  /** The version the chain stops at. */
  from: number;
  newest: number;
  /** The message to show: what to declare. */
  message: string;
}

export interface CompatibilityReport {
  /** False when a step has problems (missing upcasters do not make it false: they are reported apart). */
  ok: boolean;
  /** Every type with its versions, oldest first. */
  types: Array<{ type: string; versions: RegisteredContract[] }>;
  steps: VersionStep[];
  missingUpcasters: MissingUpcaster[];
}

/**
 * Checks every registered event type: each version against the one before it (only added
 * optional fields are compatible, see `compareSchemas`), and that every older version has a
 * chain of upcasters to the newest.
 */
export function checkContractCompatibility(): CompatibilityReport {
  const report: CompatibilityReport = { ok: true, types: [], steps: [], missingUpcasters: [] };
  for (const type of contractRegistry.types()) {
    const versions = [...contractRegistry.versions(type)];
    report.types.push({ type, versions });
    for (let i = 1; i < versions.length; i++) {
      const [from, to] = [versions[i - 1], versions[i]];
      const { problems, added } = compareSchemas(payloadJsonSchema(from.cls), payloadJsonSchema(to.cls));
      report.steps.push({ type, from, to, problems, added });
      if (problems.length) report.ok = false;
    }
    const newest = versions[versions.length - 1].meta.version;
    for (const version of versions.slice(0, -1)) {
      let at = version.meta.version;
      for (let step = upcasterRegistry.find(type, at); step; step = upcasterRegistry.find(type, at)) at = step.to;
      if (at >= newest || report.missingUpcasters.some((m) => m.type === type && m.from === at)) continue;
      const next = versions.find((c) => c.meta.version > at)!;
      report.missingUpcasters.push({
        type,
        from: at,
        newest,
        message: MISSING_UPCASTER(type, at, newest, contractRegistry.find(type, at)!.cls.name, next.cls.name),
      });
    }
  }
  return report;
}

/** One incompatibility in words: type, versions, field and what changed. */
export function describeProblem(step: VersionStep, problem: Incompatibility): string {
  return INCOMPATIBLE_VERSION(step.type, step.from.meta.version, step.to.meta.version, problem.field, problem.detail);
}

/** One line per incompatibility of the report. */
export function describeProblems(report: CompatibilityReport): string[] {
  return report.steps.flatMap((step) => step.problems.map((problem) => describeProblem(step, problem)));
}
