/**
 * ltijs 5.9.9 declares TTL indexes on its own collections (`expires` on createdAt in
 * node_modules/ltijs/dist/Utils/Database.js: idtokens and contexttokens 24 h, accesstokens 1 h,
 * nonces 10 s, states 10 min). A server without TTL indexes (FerretDB 1.x: mongoose's index build
 * fails there and ltijs carries on) would keep those documents forever, so the tool removes
 * expired ones itself, in small batches, on every server (on MongoDB the TTL monitor usually got
 * there first and this finds nothing).
 */
import type { Connection } from 'mongoose';
import { LTIJS_TTL_SECONDS } from '../../lti/sqlite-ltijs-plugin';

/** ltijs's model name → its collection (mongoose pluralises the model name). */
const LTIJS_COLLECTIONS: Readonly<Record<string, string>> = Object.freeze({
  idtoken: 'idtokens',
  contexttoken: 'contexttokens',
  accesstoken: 'accesstokens',
  nonce: 'nonces',
  state: 'states',
});

/**
 * A plain index on createdAt for each expiring ltijs collection, so the sweep does not scan. Where
 * ltijs's TTL index on the same key exists (MongoDB), creating ours fails with an options conflict
 * and theirs serves the sweep as well: that error is ignored.
 */
export async function ensureLtijsExpiryIndexes(conn: Connection): Promise<void> {
  for (const collection of Object.values(LTIJS_COLLECTIONS)) {
    try {
      await conn.collection(collection).createIndex({ createdAt: 1 }, { name: 'sence_sweep_createdAt' });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 85 && code !== 86) throw error; // IndexOptionsConflict / IndexKeySpecsConflict
    }
  }
}

/**
 * Deletes at most `batchSize` expired documents from each expiring ltijs collection; returns how
 * many. Callers repeat it (yielding in between) until it returns less than a full batch.
 */
export async function sweepLtijsExpired(conn: Connection, now: Date, batchSize: number): Promise<number> {
  let removed = 0;
  for (const [model, collection] of Object.entries(LTIJS_COLLECTIONS)) {
    const ttlSeconds = LTIJS_TTL_SECONDS[model];
    if (ttlSeconds === undefined) continue;
    const cutoff = new Date(now.getTime() - ttlSeconds * 1000);
    const docs = await conn
      .collection(collection)
      .find({ createdAt: { $lte: cutoff } }, { projection: { _id: 1 }, limit: batchSize })
      .toArray();
    if (docs.length === 0) continue;
    const result = await conn.collection(collection).deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    removed += result.deletedCount;
  }
  return removed;
}
