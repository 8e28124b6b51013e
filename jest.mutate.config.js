/**
 * The Jest set-up of `npm run mutate` (Stryker): the unit tests only (the pure code's own tests),
 * compiled without type checks, since a mutant may not type-check and must still run.
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/unit'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true, diagnostics: false }] },
};
