/**
 * npm test's second pass: the suites that have a MongoDB variant, with TEST_STORE=mongo, on the
 * server MONGODB_URI names, or on a FerretDB the global setup starts (test/support/ferretdb.ts).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/integration/store-contract.test.ts',
    '<rootDir>/test/integration/launch.test.ts',
    '<rootDir>/test/integration/sence-flow.test.ts',
    '<rootDir>/test/integration/multi-instance.test.ts',
    '<rootDir>/test/integration/shutdown.test.ts',
    '<rootDir>/test/integration/sweeps.test.ts',
    '<rootDir>/test/integration/sweep-login-clock.test.ts',
    // Stores added by issues #6, #7 and #9 (login storage binding, OTEC links, invitations, audit
    // counts, rosters, enrollments) through their real flows.
    '<rootDir>/test/integration/cookieless-launch.test.ts',
    '<rootDir>/test/integration/security-otec-tenancy.test.ts',
    '<rootDir>/test/integration/security-audit-flood.test.ts',
    '<rootDir>/test/integration/security-registration.test.ts',
    '<rootDir>/test/integration/staff-report.test.ts',
    '<rootDir>/test/integration/staff-actions-upload.test.ts',
    // Issue #19 §4: FerretDB killed during callbacks (starts a FerretDB of its own, to kill it).
    '<rootDir>/test/integration/store-crash-callbacks.test.ts',
  ],
  globalSetup: '<rootDir>/test/support/mongo-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/mongo-global-teardown.ts',
};
