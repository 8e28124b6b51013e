/**
 * The course roster as the LMS tells it through LTI Names and Role Provisioning Services (NRPS 2.0),
 * reduced to what the coordinator's report needs. Pure data.
 * @see https://www.imsglobal.org/spec/lti-nrps/v2p0#membership-container-media-type
 */
import type { CourseKey } from './types';

export interface RosterMember {
  /** The LMS user id (`user_id`), the same as the launch's `sub`. */
  userId: string;
  name: string | null;
  email: string | null;
  /** `lis_person_sourcedid` when the LMS sends it (Moodle: the user's idnumber). */
  sourcedId: string | null;
  /**
   * `ext_user_username` when the LMS sends it (Moodle 4.5: the username, only where the tool may
   * share names). Absent in rosters stored before issue #20.
   */
  username?: string | null;
  roles: string[];
  /** NRPS `status` Active (default when absent). */
  active: boolean;
}

/** The last roster fetched for a course (the cache behind "actualizado hace N min"). */
export interface CourseRoster {
  course: CourseKey;
  members: RosterMember[];
  fetchedAt: Date;
  /** The LMS reported more members than the tool reads (NRPS_MAX_MEMBERS / NRPS_MAX_BYTES): cut. */
  truncated?: boolean;
}

const LEARNER_ROLE = /(^|[#/])Learner$|membership#Learner$/;
const STAFF_ROLE = /#(Instructor|Administrator|ContentDeveloper|TeachingAssistant)$|^(Instructor|Administrator|ContentDeveloper|TeachingAssistant)$/;

/** A learner of the course: has a Learner role (short or full URI) and no staff role. */
export function isLearnerMember(m: RosterMember): boolean {
  return m.roles.some((r) => LEARNER_ROLE.test(r)) && !isStaffMember(m);
}

export function isStaffMember(m: RosterMember): boolean {
  return m.roles.some((r) => STAFF_ROLE.test(r));
}

/** Maps one NRPS member object (untrusted JSON) to a RosterMember; null when it has no user_id. */
export function memberFromNrps(raw: unknown): RosterMember | null {
  if (!raw || typeof raw !== 'object') return null;
  const m = raw as Record<string, unknown>;
  const userId = typeof m.user_id === 'string' && m.user_id !== '' ? m.user_id : null;
  if (!userId) return null;
  const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 200) : null);
  const name = str(m.name) ?? ([str(m.given_name), str(m.family_name)].filter(Boolean).join(' ') || null);
  return {
    userId: userId.slice(0, 255),
    name,
    email: str(m.email),
    sourcedId: str(m.lis_person_sourcedid),
    username: str(m.ext_user_username),
    roles: Array.isArray(m.roles) ? m.roles.filter((r): r is string => typeof r === 'string').slice(0, 20) : [],
    active: m.status === undefined || m.status === 'Active',
  };
}

const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LOCAL_PART = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`);
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * The e-mail address of a contact (issue #19): exactly one address, `local@domain.tld` — a dot-atom
 * local part of at most 64 characters, a domain of DNS labels (at most 63 each) ending in a
 * top-level domain of letters, 254 characters in all — or null. A list (`a@x.cl, b@y.cl`, `;`,
 * spaces), a display name (`Ivo <ivo@a.cl>`), quotes or line breaks are not one address: nodemailer
 * would split or interpret them and the digest would go to addresses nobody chose as contacts.
 */
export function contactAddress(email: string | null): string | null {
  const value = (email ?? '').trim();
  if (value === '' || value.length > 254) return null;
  const at = value.lastIndexOf('@');
  if (at <= 0) return null;
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split('.');
  if (local.length > 64 || !LOCAL_PART.test(local)) return null;
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l)) || !/^[A-Za-z]{2,63}$/.test(labels[labels.length - 1] ?? '')) return null;
  return value;
}
