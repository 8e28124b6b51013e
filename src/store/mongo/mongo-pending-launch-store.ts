/**
 * MongoDB adapter of PendingLaunchStore (LTI Platform Storage's check page, issue #19): one
 * document per pending launch, `_id` = its random id. Spent by one deleteOne whose deletedCount
 * says who got it (the delete of one document by `_id` is atomic on MongoDB and FerretDB 1.x alike);
 * expired documents are removed by the tool's sweep (no TTL index: FerretDB 1.x has none).
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { PendingLaunchStore } from '../ports';
import { deleteExpiredDocs } from './mongo-stores';

interface PendingLaunchDoc {
  _id: string;
  expiresAt: Date;
}

const pendingLaunchSchema = new Schema<PendingLaunchDoc>(
  { _id: String, expiresAt: Date },
  { versionKey: false, minimize: false, id: false, autoIndex: false, collection: 'sence_pending_launches' },
);
// deleteExpired (the sweep).
pendingLaunchSchema.index({ expiresAt: 1 });

export function pendingLaunchModel(conn: Connection): Model<PendingLaunchDoc> {
  return (conn.models.SencePendingLaunch as Model<PendingLaunchDoc> | undefined) ?? conn.model<PendingLaunchDoc>('SencePendingLaunch', pendingLaunchSchema);
}

export class MongoPendingLaunchStore implements PendingLaunchStore {
  private readonly model: Model<PendingLaunchDoc>;

  constructor(conn: Connection) {
    this.model = pendingLaunchModel(conn);
  }

  async save(id: string, expiresAt: Date): Promise<void> {
    await this.model.create({ _id: id, expiresAt });
  }

  /** Only an unexpired entry is spent; an expired one stays for the sweep and reads as unknown. */
  async consume(id: string, now: Date): Promise<boolean> {
    const result = await this.model.deleteOne({ _id: id, expiresAt: { $gt: now } }).exec();
    return result.deletedCount === 1;
  }

  async deleteExpired(now: Date, limit?: number): Promise<number> {
    return deleteExpiredDocs(this.model, now, limit);
  }
}
