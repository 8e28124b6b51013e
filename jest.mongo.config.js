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
    '<rootDir>/test/integration/security-audit-bounds.test.ts',
    '<rootDir>/test/integration/roster-cap.test.ts',
    '<rootDir>/test/integration/security-registration.test.ts',
    '<rootDir>/test/integration/staff-report.test.ts',
    '<rootDir>/test/integration/staff-actions-upload.test.ts',
    // Issue #19 §6: the Platform Storage pending launch spent once (PendingLaunchStore).
    '<rootDir>/test/integration/security-smaller-holes.test.ts',
    // Issue #19 §9: the property-based fuzz (fixed seed) and the findings it made.
    '<rootDir>/test/integration/fuzz.test.ts',
    '<rootDir>/test/integration/fuzz-findings.test.ts',
    // Issue #20 §1: the roster's username (RosterStore) read as the RUN.
    '<rootDir>/test/integration/roster-run.test.ts',
    // Issue #20 §5: an answer's origin judged and stored (answers), shown on the staff pages.
    '<rootDir>/test/integration/callback-origin.test.ts',
    // Issue #19 §5: the upload's ltik resolved (ltijs's records) before its file is read.
    '<rootDir>/test/integration/security-upload-auth.test.ts',
    // Issue #19 §4: FerretDB killed during callbacks (starts a FerretDB of its own, to kill it).
    '<rootDir>/test/integration/store-crash-callbacks.test.ts',
  ],
  globalSetup: '<rootDir>/test/support/mongo-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/mongo-global-teardown.ts',
};
