/**
 * Global setup of the TEST_STORE=mongo pass (jest.mongo.config.js): uses MONGODB_URI when set,
 * otherwise starts FerretDB (when installed) and exports its URI to the test workers.
 */
import { FERRETDB_MISSING, findFerretDb, startFerretDb, type FerretDb } from './ferretdb';

declare global {
  var __ferretDb: FerretDb | undefined;
}

export default async function mongoGlobalSetup(): Promise<void> {
  process.env.TEST_STORE = 'mongo';
  if (process.env.MONGODB_URI?.trim()) {
    console.log(`\nMongoDB suites on MONGODB_URI (${process.env.MONGODB_URI.replace(/\/\/[^@/]*@/, '//…@')})`);
    return;
  }
  const binary = findFerretDb();
  if (!binary) throw new Error(FERRETDB_MISSING);
  const ferret = await startFerretDb({ binary });
  globalThis.__ferretDb = ferret;
  process.env.MONGODB_URI = ferret.uri;
  console.log(`\nMongoDB suites on FerretDB (${binary}, SQLite backend in ${ferret.dir}) at ${ferret.uri}`);
}
