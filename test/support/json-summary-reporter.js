'use strict';
/**
 * A tiny jest reporter that writes the run's totals to `<rootDir>/.jest-results.json`, so that
 * `.ci/run` can print "N passed, N failed" whatever command line started jest.
 * Enabled in jest.config.js: `reporters: ['default', '<rootDir>/test/support/json-summary-reporter.js']`.
 * JEST_RESULTS_FILE names another file (scripts/test-topologies.js: one per topology).
 */
const { writeFileSync } = require('node:fs');
const { resolve } = require('node:path');

class JsonSummaryReporter {
  constructor(globalConfig, reporterOptions) {
    const options = reporterOptions || {};
    this.outputFile = resolve(
      globalConfig.rootDir,
      options.outputFile || process.env.JEST_RESULTS_FILE || '.jest-results.json',
    );
  }

  onRunComplete(_testContexts, results) {
    const summary = {
      numPassedTests: results.numPassedTests,
      numFailedTests: results.numFailedTests,
      numPendingTests: results.numPendingTests + (results.numTodoTests || 0),
      numTotalTests: results.numTotalTests,
      // Suites that could not run at all (compile error, crash in beforeAll, ...): they
      // contribute no failed test but do fail the run.
      numRuntimeErrorTestSuites: results.numRuntimeErrorTestSuites,
      numFailedTestSuites: results.numFailedTestSuites,
      numTotalTestSuites: results.numTotalTestSuites,
      success: results.success,
    };
    writeFileSync(this.outputFile, JSON.stringify(summary, null, 2) + '\n');
  }

  getLastError() {
    return undefined;
  }
}

module.exports = JsonSummaryReporter;
