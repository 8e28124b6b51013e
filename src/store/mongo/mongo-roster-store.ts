/**
 * MongoDB adapter of RosterStore: one document per course, `_id` = the course key (unique by
 * construction, no extra index), the members as an embedded array. Thin, like mongo-stores.ts.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { CourseKey } from '../../domain/types';
import type { CourseRoster, RosterMember } from '../../domain/roster';
import type { RosterStore } from '../ports';

interface RosterDoc {
  _id: string;
  course: { issuer: string; clientId: string; contextId: string };
  members: RosterMember[];
  fetchedAt: Date;
  /** Issue #19: the LMS had more members than the tool reads; absent before. */
  truncated?: boolean;
}

const rosterSchema = new Schema<RosterDoc>(
  {
    _id: String,
    course: { issuer: String, clientId: String, contextId: String },
    members: { type: Schema.Types.Mixed, default: [] },
    fetchedAt: Date,
    truncated: { type: Boolean, default: false },
  },
  { versionKey: false, minimize: false, id: false, autoIndex: false, collection: 'sence_course_rosters' },
);

export function rosterModel(conn: Connection): Model<RosterDoc> {
  return (conn.models.SenceCourseRoster as Model<RosterDoc> | undefined) ?? conn.model<RosterDoc>('SenceCourseRoster', rosterSchema);
}

export function courseDocId(c: CourseKey): string {
  return JSON.stringify([c.issuer, c.clientId, c.contextId]);
}

export class MongoRosterStore implements RosterStore {
  private readonly model: Model<RosterDoc>;

  constructor(conn: Connection) {
    this.model = rosterModel(conn);
  }

  async get(course: CourseKey): Promise<CourseRoster | null> {
    const doc = await this.model.findById(courseDocId(course)).lean<RosterDoc>().exec();
    if (!doc) return null;
    return {
      course: { issuer: doc.course.issuer, clientId: doc.course.clientId, contextId: doc.course.contextId },
      members: doc.members.map((m) => ({ ...m, roles: [...m.roles] })),
      fetchedAt: new Date(doc.fetchedAt),
      truncated: doc.truncated === true,
    };
  }

  async listCourses(): Promise<CourseKey[]> {
    const docs = await this.model.find({}, { course: 1 }).sort({ _id: 1 }).lean<Array<Pick<RosterDoc, 'course'>>>().exec();
    return docs
      .map((d) => ({ issuer: d.course.issuer, clientId: d.course.clientId, contextId: d.course.contextId }))
      .sort((a, b) => a.issuer.localeCompare(b.issuer) || a.clientId.localeCompare(b.clientId) || a.contextId.localeCompare(b.contextId));
  }

  async save(roster: CourseRoster): Promise<void> {
    const c = roster.course;
    await this.model
      .replaceOne(
        { _id: courseDocId(c) },
        { course: { issuer: c.issuer, clientId: c.clientId, contextId: c.contextId }, members: roster.members, fetchedAt: roster.fetchedAt, truncated: roster.truncated === true },
        { upsert: true },
      )
      .exec();
  }
}
