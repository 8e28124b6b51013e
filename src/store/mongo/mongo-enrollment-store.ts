/**
 * MongoDB adapter of EnrollmentStore: one document per course and LMS user, `_id` = that key
 * (unique by construction), plus a plain index for listing a course. No transactions: callers
 * validate a whole batch before saveMany, which writes it with one ordered bulkWrite.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { CourseKey } from '../../domain/types';
import type { LearnerEnrollment, SenceAction } from '../../domain/enrollment';
import type { EnrollmentStore } from '../ports';

interface EnrollmentDoc {
  _id: string;
  course: { issuer: string; clientId: string; contextId: string };
  sub: string;
  run: string | null;
  action: SenceAction | null;
  exempt: boolean;
  updatedAt: Date;
}

const enrollmentSchema = new Schema<EnrollmentDoc>(
  {
    _id: String,
    course: { issuer: String, clientId: String, contextId: String },
    sub: String,
    run: { type: String, default: null },
    action: { type: Schema.Types.Mixed, default: null },
    exempt: Boolean,
    updatedAt: Date,
  },
  { versionKey: false, minimize: false, id: false, autoIndex: false, collection: 'sence_enrollments' },
);
// list (course, by sub)
enrollmentSchema.index({ 'course.issuer': 1, 'course.clientId': 1, 'course.contextId': 1, sub: 1 });

export function enrollmentModel(conn: Connection): Model<EnrollmentDoc> {
  return (conn.models.SenceEnrollment as Model<EnrollmentDoc> | undefined) ?? conn.model<EnrollmentDoc>('SenceEnrollment', enrollmentSchema);
}

function docId(c: CourseKey, sub: string): string {
  return JSON.stringify([c.issuer, c.clientId, c.contextId, sub]);
}

function toEnrollment(doc: EnrollmentDoc): LearnerEnrollment {
  return {
    course: { issuer: doc.course.issuer, clientId: doc.course.clientId, contextId: doc.course.contextId },
    sub: doc.sub,
    run: doc.run ?? null,
    action: doc.action ? { codigoCurso: doc.action.codigoCurso, codSence: doc.action.codSence, lineaCapacitacion: doc.action.lineaCapacitacion } : null,
    exempt: doc.exempt === true,
    updatedAt: new Date(doc.updatedAt),
  };
}

export class MongoEnrollmentStore implements EnrollmentStore {
  private readonly model: Model<EnrollmentDoc>;

  constructor(conn: Connection) {
    this.model = enrollmentModel(conn);
  }

  async get(course: CourseKey, sub: string): Promise<LearnerEnrollment | null> {
    const doc = await this.model.findById(docId(course, sub)).lean<EnrollmentDoc>().exec();
    return doc ? toEnrollment(doc) : null;
  }

  async list(course: CourseKey): Promise<LearnerEnrollment[]> {
    const docs = await this.model
      .find({ 'course.issuer': course.issuer, 'course.clientId': course.clientId, 'course.contextId': course.contextId })
      .sort({ sub: 1 })
      .lean<EnrollmentDoc[]>()
      .exec();
    return docs.map(toEnrollment);
  }

  async saveMany(records: LearnerEnrollment[]): Promise<void> {
    if (records.length === 0) return;
    await this.model.bulkWrite(
      records.map((r) => ({
        replaceOne: {
          filter: { _id: docId(r.course, r.sub) },
          replacement: {
            course: { issuer: r.course.issuer, clientId: r.course.clientId, contextId: r.course.contextId },
            sub: r.sub,
            run: r.run,
            action: r.action ? { ...r.action } : null,
            exempt: r.exempt,
            updatedAt: r.updatedAt,
          },
          upsert: true,
        },
      })),
      { ordered: true },
    );
  }
}
