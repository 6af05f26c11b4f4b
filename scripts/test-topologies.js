#!/usr/bin/env node
'use strict';
/**
 * `npm run test:topologies`: the specs that run on every test topology (TOPOLOGY_SPECS), once per
 * topology other than the default standalone P=1 (which `npm test` covers with every spec):
 *
 *   standalone P=16   one redis-server, 16 partitions per stream
 *   cluster P=1       a local 3-master Redis Cluster (no replicas), one partition
 *   cluster P=16      that cluster, 16 partitions (spread over the masters)
 *
 * Each run is its own jest process with REDIS_TEST_TOPOLOGY / REDIS_TEST_PARTITIONS set (see
 * test/support/topology.ts) and writes its totals to `.jest-results.<name>.json` (name:
 * `standalone-16`, `cluster-1`, `cluster-16`), which `.ci/run` adds to `npm cit`'s. Arguments
 * pick some of them: `npm run test:topologies -- cluster-1`. Exit code: 1 when any run failed.
 */
const { spawnSync } = require('node:child_process');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');

/**
 * The specs that run on every topology: the library end to end (delivery, retries, dead letters,
 * dedupe, commits, replay, retention, raw subscriptions), the Nest microservices transport (events
 * and requests), the shop's order flow through HTTP, the operations API and its console in Chromium. The others run on standalone P=1 only: they
 * inspect raw keys of that layout, start Redis servers of their own, or (order-flow-processes:
 * six ts-node processes) cost more time than the three extra runs have.
 */
const TOPOLOGY_SPECS = [
  'libs/event-bus/test/event-bus.e2e-spec.ts',
  'libs/event-bus/test/guarantees.e2e-spec.ts',
  'libs/event-bus/test/replay-retention.e2e-spec.ts',
  'libs/event-bus/test/raw-subscription.e2e-spec.ts',
  'libs/event-bus/test/transport-events.e2e-spec.ts',
  'libs/event-bus/test/transport-requests.e2e-spec.ts',
  'test/order-flow.e2e-spec.ts',
  'apps/api/test/ops-api.e2e-spec.ts',
  'apps/api/test/console.e2e-spec.ts',
  'apps/api/test/console-stream.e2e-spec.ts',
];

const TOPOLOGIES = [
  { name: 'standalone-16', redis: 'standalone', partitions: 16 },
  { name: 'cluster-1', redis: 'cluster', partitions: 1 },
  { name: 'cluster-16', redis: 'cluster', partitions: 16 },
];

function main(argv) {
  const picked = argv.length > 0 ? TOPOLOGIES.filter((t) => argv.includes(t.name)) : TOPOLOGIES;
  const unknown = argv.filter((a) => !TOPOLOGIES.some((t) => t.name === a));
  if (unknown.length > 0) {
    console.error(`unknown topology ${unknown.join(', ')}: pick from ${TOPOLOGIES.map((t) => t.name).join(', ')}`);
    return 2;
  }
  let failed = false;
  for (const topology of picked) {
    console.log(`\n=== jest on ${topology.redis} P=${topology.partitions}: ${TOPOLOGY_SPECS.length} specs ===`);
    const began = Date.now();
    const run = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--ci', ...TOPOLOGY_SPECS], {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        REDIS_TEST_TOPOLOGY: topology.redis,
        REDIS_TEST_PARTITIONS: String(topology.partitions),
        JEST_RESULTS_FILE: join(ROOT, `.jest-results.${topology.name}.json`),
      },
    });
    const seconds = Math.round((Date.now() - began) / 1000);
    console.log(
      `=== ${topology.redis} P=${topology.partitions}: jest exited with ${run.status ?? run.signal} after ${seconds} s ===`,
    );
    if (run.status !== 0) failed = true;
  }
  return failed ? 1 : 0;
}

module.exports = { TOPOLOGY_SPECS, TOPOLOGIES };

if (require.main === module) process.exit(main(process.argv.slice(2)));
