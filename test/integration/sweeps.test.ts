/**
 * The periodic clean-up works in small batches and removes what would otherwise grow without
 * bound: expired login states, and ltijs's expired records (its SQLite tables, or its MongoDB
 * collections, which have no TTL index on FerretDB). Runs on the pass's store (TEST_STORE).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import mongoose from 'mongoose';
import { openSqliteDatabase } from '../../src/store/sqlite/open-sqlite';
import { SqliteLtijsPlugin } from '../../src/lti/sqlite-ltijs-plugin';
import { SWEEP_BATCH, sweepOnce } from '../../src/sweeps';
import { startTestSystem, type TestSystem } from '../support/test-system';

describe('sweepOnce', () => {
  it('calls each task batch by batch until a short batch, letting other work run in between', async () => {
    let backlog = 1_234;
    const calls: number[] = [];
    let otherWorkRan = 0;
    const task = async (_now: Date, batch: number) => {
      calls.push(batch);
      void nextTurn().then(() => (otherWorkRan += 1)); // a "request" waiting for the event loop
      const n = Math.min(batch, backlog);
      backlog -= n;
      return n;
    };
    const result = await sweepOnce({ logins: task }, new Date(), 500);
    expect(result.removed).toEqual({ logins: 1_234 });
    expect(calls).toEqual([500, 500, 500]);
    expect(otherWorkRan).toBe(3); // each batch let the waiting work run before the next
  });

  it('reports a failing task and still runs the others', async () => {
    const result = await sweepOnce(
      {
        broken: async () => {
          throw new Error('store unavailable');
        },
        fine: async () => 0,
      },
      new Date(),
    );
    expect(result.failed).toEqual({ broken: 'store unavailable' });
    expect(result.removed).toEqual({ broken: 0, fine: 0 });
  });
});

describe('the system sweep', () => {
  let sys: TestSystem;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    sys = await startTestSystem();
  });

  afterAll(async () => {
    await sys?.stop();
  });

  it(`removes ${2 * SWEEP_BATCH + 200} expired logins in batches of ${SWEEP_BATCH} and keeps live ones`, async () => {
    const past = new Date(Date.now() - HOUR);
    const total = 2 * SWEEP_BATCH + 200;
    for (let i = 0; i < total; i += 1) {
      await sys.stores.logins.save({ state: `expired-${i}`, nonce: 'n', issuer: 'https://lms.example', clientId: null, storageTarget: null, relaunchQuery: null, linkQuery: null, expiresAt: past });
    }
    await sys.stores.logins.save({ state: 'live', nonce: 'n', issuer: 'https://lms.example', clientId: null, storageTarget: null, relaunchQuery: null, linkQuery: null, expiresAt: new Date(Date.now() + HOUR) });
    const result = await sys.sweeper.runNow();
    expect(result.failed).toEqual({});
    expect(result.removed.logins).toBe(total);
    expect(await sys.stores.logins.consume('expired-0', new Date(0))).toBeNull();
    expect(await sys.stores.logins.consume('live', new Date())).not.toBeNull();
  });

  it("removes ltijs's expired nonces and states (no TTL index needed) and keeps fresh ones", async () => {
    const old = Date.now() - 2 * HOUR; // past the 10 s (nonce) and 10 min (state) lifetimes
    if (sys.storeKind === 'mongo') {
      const conn = mongoose.createConnection(sys.config.mongodbUri!);
      try {
        await conn.asPromise();
        await conn.collection('nonces').insertMany(Array.from({ length: 30 }, (_, i) => ({ nonce: `old-${i}`, createdAt: new Date(old) })));
        await conn.collection('nonces').insertOne({ nonce: 'fresh', createdAt: new Date() });
        await conn.collection('states').insertOne({ state: 'old-state', query: {}, createdAt: new Date(old) });
        const result = await sys.sweeper.runNow();
        expect(result.failed).toEqual({});
        expect(result.removed.ltijs).toBe(31);
        expect(await conn.collection('nonces').countDocuments({ nonce: /^old-/ })).toBe(0);
        expect(await conn.collection('nonces').countDocuments({ nonce: 'fresh' })).toBe(1);
        expect(await conn.collection('states').countDocuments({ state: 'old-state' })).toBe(0);
      } finally {
        await conn.close();
      }
    } else {
      const db = openSqliteDatabase(sys.config.sqliteFile);
      try {
        const writer = new SqliteLtijsPlugin(db, { now: () => old });
        const fresh = new SqliteLtijsPlugin(db);
        const reader = new SqliteLtijsPlugin(db);
        for (const p of [writer, fresh, reader]) await p.setup(); // idempotent: the tables exist
        for (let i = 0; i < 30; i += 1) await writer.Insert(false, 'nonce', { nonce: `old-${i}` });
        await writer.Insert(false, 'state', { state: 'old-state', query: {} });
        await fresh.Insert(false, 'nonce', { nonce: 'fresh' });
        const result = await sys.sweeper.runNow();
        expect(result.failed).toEqual({});
        expect(result.removed.ltijs).toBe(31);
        expect(await reader.Get(false, 'nonce', { nonce: 'old-0' })).toBe(false);
        expect(await reader.Get(false, 'nonce', { nonce: 'fresh' })).not.toBe(false);
      } finally {
        db.close();
      }
    }
  });
});
