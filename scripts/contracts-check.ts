/**
 * `npm run contracts:check [-- <module>...]`: checks that the versions of every event type in
 * @app/contracts are compatible (docs/contract.md section 5: a newer version may only add optional
 * fields) and that every older version has upcasters to the newest. Prints one line per type and
 * version step; exits 1 on any failure. Extra modules of contracts (e.g. a test fixture) can be
 * given as arguments or in CONTRACTS_CHECK_EXTRA (comma-separated paths); they load after @app/contracts.
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import '@app/contracts';
import { checkContractCompatibility, describeProblem } from '@nest-streams/event-bus/catalogue';

async function main(): Promise<number> {
  const extra = [...process.argv.slice(2), ...(process.env.CONTRACTS_CHECK_EXTRA ?? '').split(',')].filter(Boolean);
  for (const module of extra) await import(resolve(module));

  const report = checkContractCompatibility();
  let failures = 0;
  for (const { type, versions } of report.types) {
    if (versions.length === 1) console.log(`OK    ${type} v${versions[0].meta.version}`);
    for (const step of report.steps.filter((s) => s.type === type)) {
      const versionsText = `${type} v${step.from.meta.version} -> v${step.to.meta.version}`;
      if (!step.problems.length) {
        console.log(`OK    ${versionsText}${step.added.length ? ` (adds optional ${step.added.join(', ')})` : ''}`);
        continue;
      }
      failures += step.problems.length;
      for (const problem of step.problems) console.error(`FAIL  ${describeProblem(step, problem)}`);
    }
    for (const missing of report.missingUpcasters.filter((m) => m.type === type)) {
      failures++;
      console.error(`FAIL  ${missing.message}`);
    }
  }
  const versions = report.types.reduce((n, t) => n + t.versions.length, 0);
  if (failures) {
    console.error(
      `\n${failures} problem(s) in ${report.types.length} event types (${versions} versions). A newer version of a type may only add optional fields; ` +
        'removing, renaming or retyping a field, or making one required, is a new event type (docs/contract.md section 5). ' +
        'Every older version needs an @Upcaster chain to the newest.',
    );
    return 1;
  }
  console.log(`\ncontracts compatible: ${report.types.length} event types, ${versions} versions`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
