// Lint = the architecture's import boundaries (STYLE habit 1): domain, SENCE protocol and use-case
// code import nothing from Express, databases, HTTP clients, ltijs or the web layer.
const tsParser = require('@typescript-eslint/parser');

const forbidden = {
  paths: [
    { name: 'express', message: 'Domain code must not depend on Express (move it to src/web).' },
    { name: 'mongoose', message: 'Domain code must not depend on MongoDB (move it to src/store/mongo).' },
    { name: 'better-sqlite3', message: 'Domain code must not depend on SQLite (move it to src/store/sqlite).' },
    { name: 'ltijs', message: 'Domain code must not depend on ltijs (move it to src/lti).' },
    { name: 'node:http', message: 'Domain code does no I/O.' },
    { name: 'node:https', message: 'Domain code does no I/O.' },
    { name: 'node:fs', message: 'Domain code does no I/O.' },
  ],
  patterns: [
    { group: ['**/web/**', '**/store/sqlite/**', '**/store/mongo/**', '**/simulators/**'], message: 'Domain code must not reach into adapters or the web layer.' },
  ],
};

module.exports = [
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**', 'data/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tsParser, sourceType: 'module' },
  },
  {
    files: ['src/domain/**/*.ts', 'src/sence/**/*.ts', 'src/application/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', forbidden] },
  },
  {
    // A focused test left in a commit would make Jest skip every other test of its file in CI.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['it', 'test', 'describe'].map((object) => ({ object, property: 'only', message: 'Remove .only before committing: the rest of the file would not run.' })),
      ],
    },
  },
];
