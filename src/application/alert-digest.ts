/**
 * The daily alert digest (issue #9, item 7): once a day (from the configured hour, Santiago time),
 * for every course with a stored roster and staff-fixable SENCE errors, one e-mail in Spanish to the
 * course's contacts (the roster's staff members with an e-mail). A failed delivery is logged and
 * audited and tried again the next day with everything since the last delivered digest: nothing lost.
 */
import { randomUUID } from 'node:crypto';
import type { CourseKey } from '../domain/types';
import type { Stores } from '../store/ports';
import { contactAddress, isStaffMember, type RosterMember } from '../domain/roster';
import { digestContent, digestMessage, isEmptyDigest } from '../domain/alert-digest-message';

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** Port: delivers one e-mail or throws. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Structural logger (the web Logger satisfies it); application code imports nothing from web. */
export interface JobLogger {
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

const DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Santiago', year: 'numeric', month: '2-digit', day: '2-digit' });
const HOUR = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/Santiago', hour: '2-digit', hourCycle: 'h23' });

export interface DigestRunResult {
  sent: number;
  failed: number;
  skipped: number;
}

export class AlertDigestJob {
  constructor(
    private readonly stores: Stores,
    private readonly mailer: Mailer,
    private readonly options: { from: string; digestHour: number },
    private readonly logger: JobLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** One pass over every course; safe to call often (at most one attempt per course and day). */
  async runOnce(): Promise<DigestRunResult> {
    const now = this.now();
    const result: DigestRunResult = { sent: 0, failed: 0, skipped: 0 };
    if (Number(HOUR.format(now)) < this.options.digestHour) return result;
    const today = DAY.format(now);
    for (const course of await this.stores.rosters.listCourses()) {
      const outcome = await this.runCourse(course, today, now);
      result[outcome] += 1;
    }
    return result;
  }

  private async runCourse(course: CourseKey, today: string, now: Date): Promise<keyof DigestRunResult> {
    const state = await this.stores.digests.get(course);
    if (state?.lastAttemptDay === today) return 'skipped';
    const sessions = await this.stores.attendance.listCourseSessions(course);
    const content = digestContent(sessions, state?.lastSentAt ?? null);
    if (isEmptyDigest(content)) return 'skipped';
    const roster = await this.stores.rosters.get(course);
    // One validated address per contact (issue #19): an e-mail field holding a list or anything
    // else is left out, and staff are told so in the digest's audit entry (their audit page).
    const contacts = (roster?.members ?? []).filter((m) => isStaffMember(m) && m.active && m.email);
    const invalid = contacts.filter((m) => contactAddress(m.email) === null);
    const to = [...new Set(contacts.map((m) => contactAddress(m.email)).filter((a): a is string => a !== null))];
    const leftOut = invalidContactsNote(invalid);
    if (invalid.length > 0) {
      this.logger.log('warn', 'alert digest: contacts with an invalid e-mail left out', { contextId: course.contextId, invalidContacts: invalid.length });
    }
    if (to.length === 0) {
      this.logger.log('warn', 'alert digest: the course has no staff e-mail in its roster', { contextId: course.contextId, issuer: course.issuer });
      if (invalid.length > 0) {
        await this.stores.digests.save({ course, lastAttemptDay: today, lastSentAt: state?.lastSentAt ?? null, lastError: 'no valid contact e-mail' });
        await this.audit(course, now, 'alert-digest-failed', false, `resumen diario no enviado: ningún contacto tiene un correo válido.${leftOut}`, { recipients: 0, invalidContacts: invalid.length });
      }
      return 'skipped';
    }
    const courseRecord = await this.stores.courses.get(course);
    const names = new Map<string, string>();
    for (const m of roster?.members ?? []) names.set(m.userId, m.name ?? m.userId);
    const unnamed = [...new Set(sessions.map((s) => s.learner.sub))].filter((sub) => !names.has(sub));
    const learners = await this.stores.learners.getMany(course, unnamed);
    for (const sub of unnamed) names.set(sub, learners.get(sub)?.name ?? sub);
    const message = digestMessage(content, { courseTitle: courseRecord?.title ?? null, names: (sub) => names.get(sub) ?? sub, now });
    const codes = content.open.map((a) => a.code).join(', ');
    try {
      await this.mailer.send({ from: this.options.from, to, subject: message.subject, text: message.text });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      await this.stores.digests.save({ course, lastAttemptDay: today, lastSentAt: state?.lastSentAt ?? null, lastError: detail.slice(0, 500) });
      this.logger.log('error', 'alert digest could not be sent; it will be tried again tomorrow', { code: 'alert-digest-failed', contextId: course.contextId, error: detail });
      await this.audit(course, now, 'alert-digest-failed', false, `resumen diario no enviado (se reintenta mañana): ${detail.slice(0, 200)}${leftOut}`, { recipients: to.length, invalidContacts: invalid.length });
      return 'failed';
    }
    await this.stores.digests.save({ course, lastAttemptDay: today, lastSentAt: now, lastError: null });
    this.logger.log('info', 'alert digest sent', { contextId: course.contextId, recipients: to.length, open: content.open.length });
    await this.audit(course, now, 'alert-digest-sent', true, `resumen diario enviado a ${to.length} contacto(s)${codes ? `: errores ${codes}` : ''}${invalid.length ? '.' : ''}${leftOut}`, { recipients: to.length, invalidContacts: invalid.length });
    return 'sent';
  }

  private async audit(course: CourseKey, at: Date, event: 'alert-digest-sent' | 'alert-digest-failed', accepted: boolean, reason: string, details: Record<string, unknown>): Promise<void> {
    await this.stores.audit.record({ id: randomUUID(), at, event, accepted, reason, sourceIp: null, learner: null, course, sessionId: null, details });
  }
}

/** Staff words for the contacts left out (at most 10 named, each e-mail cut), or '' when none. */
function invalidContactsNote(invalid: readonly RosterMember[]): string {
  if (invalid.length === 0) return '';
  const named = invalid.slice(0, 10).map((m) => `${(m.name ?? m.userId).slice(0, 80)} («${(m.email ?? '').replace(/[\r\n]+/g, ' ').slice(0, 80)}»)`);
  const more = invalid.length > 10 ? ` y ${invalid.length - 10} más` : '';
  return ` Se omitieron ${invalid.length} contacto(s) cuyo correo en la plataforma no es una dirección válida: ${named.join(', ')}${more}.`
    + ' Corrija el correo en el perfil de cada uno en la plataforma (LMS): cada contacto debe tener una sola dirección.';
}
