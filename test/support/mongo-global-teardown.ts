import type {} from './mongo-global-setup'; // its `declare global` types __ferretDb

/** Stops the FerretDB the global setup started (if it started one). */
export default async function mongoGlobalTeardown(): Promise<void> {
  await globalThis.__ferretDb?.destroy();
  globalThis.__ferretDb = undefined;
}
