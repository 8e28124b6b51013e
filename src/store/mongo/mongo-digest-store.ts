/** MongoDB adapter of DigestStore: one document per course, `_id` = the course key. */
import { Schema, type Connection, type Model } from 'mongoose';
import type { CourseKey } from '../../domain/types';
import type { DigestState, DigestStore } from '../ports';
import { courseDocId } from './mongo-roster-store';

interface DigestDoc {
  _id: string;
  course: { issuer: string; clientId: string; contextId: string };
  lastAttemptDay: string | null;
  lastSentAt: Date | null;
  lastError: string | null;
}

const digestSchema = new Schema<DigestDoc>(
  {
    _id: String,
    course: { issuer: String, clientId: String, contextId: String },
    lastAttemptDay: { type: String, default: null },
    lastSentAt: { type: Date, default: null },
    lastError: { type: String, default: null },
  },
  { versionKey: false, minimize: false, id: false, autoIndex: false, collection: 'sence_alert_digests' },
);

export function digestModel(conn: Connection): Model<DigestDoc> {
  return (conn.models.SenceAlertDigest as Model<DigestDoc> | undefined) ?? conn.model<DigestDoc>('SenceAlertDigest', digestSchema);
}

export class MongoDigestStore implements DigestStore {
  private readonly model: Model<DigestDoc>;

  constructor(conn: Connection) {
    this.model = digestModel(conn);
  }

  async get(course: CourseKey): Promise<DigestState | null> {
    const doc = await this.model.findById(courseDocId(course)).lean<DigestDoc>().exec();
    if (!doc) return null;
    return {
      course: { issuer: doc.course.issuer, clientId: doc.course.clientId, contextId: doc.course.contextId },
      lastAttemptDay: doc.lastAttemptDay ?? null,
      lastSentAt: doc.lastSentAt ? new Date(doc.lastSentAt) : null,
      lastError: doc.lastError ?? null,
    };
  }

  async save(state: DigestState): Promise<void> {
    const c = state.course;
    await this.model
      .replaceOne(
        { _id: courseDocId(c) },
        { course: { issuer: c.issuer, clientId: c.clientId, contextId: c.contextId }, lastAttemptDay: state.lastAttemptDay, lastSentAt: state.lastSentAt, lastError: state.lastError },
        { upsert: true },
      )
      .exec();
  }
}
