/**
 * The SENCE attendance use cases: open a session, close it, receive SENCE's answers, expire what
 * is due, and say what the learner's panel shows. Talks only to ports (stores) and pure domain
 * code; the web layer translates HTTP to these calls and back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { judgeCallbackOrigin } from '../sence/callback-origin';
import { AppError, type ErrorCode } from '../errors';
import type {
  AttendanceSession,
  AttemptPhase,
  AuditEntry,
  CallbackAttempt,
  Course,
  CourseKey,
  Learner,
  LearnerKey,
} from '../domain/types';
import type { Stores } from '../store/ports';
import {
  ACTIVE_STATES,
  applyCloseError,
  applyCloseSuccess,
  applyStartError,
  applyStartSuccess,
  clockStatus,
  expireIfDue,
  hasAccessMark,
  newSession,
  requestClose,
  totalAccreditedSeconds,
} from '../domain/attendance-rules';
import { describeSenceError, type SenceErrorDescription } from '../domain/sence-error-catalogue';
import { formatAccredited, formatSantiagoTime, learnerProgress, learnerProgressText } from '../domain/time-format';
import { openSecret } from '../domain/token-crypto';
import { buildCloseForm, buildStartForm, type AutoPostForm } from '../sence/rce-form';
import { settingsForLearner } from '../domain/enrollment';
import { deriveCallbackToken, deriveWindowKey, hashCallbackToken, tokenMatches } from '../sence/callback-token';
import { FIELD_NAME_MAX_LENGTH, parseCallbackBody, verifyCallback } from '../sence/verify-callback';
import { isLinked } from './otec-tenancy';

export interface AttendanceConfig {
  publicUrl: string;
  senceBaseUrls: { test: string; production: string };
  attemptTtlMinutes: number;
  tokenKey: Buffer;
}

export interface RequestInfo {
  sourceIp: string | null;
  /** `Origin` and `Referer` headers as received (recorded on SENCE callbacks, issue #7). */
  origin?: string | null;
  referer?: string | null;
}

/**
 * A second press of "Abrir sesión" this soon after the trip began is the same click (a double
 * click, or the panel pressed twice while the SENCE window opens): it gets the same form. Later, a
 * press that does not say it continues the pending trip gets the pending trip shown instead of a
 * second SENCE window (issue #20 §11).
 */
export const DOUBLE_PRESS_SECONDS = 10;

/** Identical rejected callbacks within this window are one audit entry with a count. */
export const REPEATED_REJECTION_WINDOW_MS = 10 * 60_000;

export type CallbackKind = 'retoma' | 'error';

/** Callback paths: 7 + 12 + 1 + 22 = 42 characters after PUBLIC_URL (RCE limit: 100 in all). */
export const CALLBACK_PATHS = { retoma: '/cb/ok/', error: '/cb/er/' } as const;

export interface CallbackResult {
  phase: AttemptPhase;
  outcome: 'success' | 'error';
  session: AttendanceSession;
  errors: SenceErrorDescription[];
  /** Capability for the SENCE window's buttons (close / retry), bound to this session. */
  windowKey: string;
}

export interface ActiveSessionView {
  id: string;
  state: AttendanceSession['state'];
  openedAt: string | null;
  elapsedSeconds: number;
  remainingSeconds: number;
  level: 'ok' | 'warning' | 'danger' | 'over';
  limitMinutes: number;
  warningMinutes: number;
  /** The pending trip to SENCE (starting: the start; closing: the close), "14:05" in Chile. */
  tripStartedAtText: string | null;
  /** When the tool stops waiting for SENCE's answer (the attempt's expiry, ATTEMPT_TTL_MINUTES). */
  tripGiveUpAtText: string | null;
  tripWaitMinutes: number;
  /** An open session whose close never came back says so (issue #20 §10). */
  notice: string | null;
}

/** A start that is still waiting for SENCE, shown to a second tab instead of a second trip (issue #20 §11). */
export interface PendingTripView {
  startedAtText: string;
  giveUpAtText: string;
  waitMinutes: number;
}

export interface EndedSessionView {
  state: AttendanceSession['state'];
  endedAt: string | null;
  reason: string | null;
  accreditedText: string;
  errors: SenceErrorDescription[];
}

export interface PanelView {
  now: string;
  configured: boolean;
  environment: 'test' | 'production' | null;
  requiredHours: number | null;
  accreditedSeconds: number;
  accreditedText: string;
  /** One decimal under 10 %, whole from 10 % (learnerProgress); `percentText` is what the learner reads. */
  percent: number;
  percentText: string;
  accessMark: boolean;
  active: ActiveSessionView | null;
  lastEnded: EndedSessionView | null;
  sessionCount: number;
  /** Marked exempt by staff (becario, not financed by SENCE): no SENCE registration, no open button. */
  exempt: boolean;
}

export class AttendanceService {
  constructor(
    private readonly stores: Stores,
    private readonly config: AttendanceConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** What the learner's panel shows, after expiring what is due. */
  async panel(learner: LearnerKey, courseKey: CourseKey, course: Course | null): Promise<PanelView> {
    const now = this.now();
    let sessions = await this.stores.attendance.listSessions(learner, courseKey);
    const enrollment = await this.stores.enrollments.get(courseKey, learner.sub);
    const expired = await this.expireDue(sessions.filter((s) => ACTIVE_STATES.includes(s.state)), now, null);
    if (expired.length) sessions = sessions.map((s) => expired.find((e) => e.id === s.id) ?? s);
    const accredited = totalAccreditedSeconds(sessions);
    const activeSession = sessions.find((s) => ACTIVE_STATES.includes(s.state)) ?? null;
    const ended = sessions.find((s) => !ACTIVE_STATES.includes(s.state)) ?? null;
    const settings = course?.settings ?? null;
    return {
      now: now.toISOString(),
      configured: settings !== null,
      environment: settings?.environment ?? null,
      requiredHours: settings?.requiredHours ?? null,
      accreditedSeconds: accredited,
      accreditedText: formatAccredited(accredited),
      percent: learnerProgress(accredited, settings?.requiredHours ?? null),
      percentText: learnerProgressText(accredited, settings?.requiredHours ?? null),
      accessMark: hasAccessMark(sessions),
      active: activeSession ? activeView(activeSession, now, this.config.attemptTtlMinutes) : null,
      lastEnded: ended
        ? {
            state: ended.state,
            endedAt: ended.endedAt?.toISOString() ?? null,
            reason: ended.endReason,
            accreditedText: formatAccredited(ended.accreditedSeconds),
            errors: ended.lastErrorCodes.map(describeSenceError),
          }
        : null,
      sessionCount: sessions.length,
      exempt: enrollment?.exempt === true,
    };
  }

  /** "Abrir sesión": one session per learner and course; a double click gets the same attempt back. */
  async start(learner: Learner, course: Course | null, info: RequestInfo): Promise<{ form: AutoPostForm; session: AttendanceSession }> {
    const now = this.now();
    const settings = course?.settings;
    if (!course || !settings) {
      throw new AppError('course-not-configured', 409, 'Este curso todavía no está configurado para registrar asistencia en SENCE. Avísale a tu relator o coordinador.', {
        staffHint: 'Entre como docente y complete la configuración SENCE del curso (OTEC, línea, códigos).',
      });
    }
    if (!learner.run) {
      throw new AppError('run-missing', 422, 'No tenemos tu RUN, así que no podemos enviarte a SENCE. Avísale a tu relator o coordinador.', {
        staffHint: 'La plataforma no envió un RUN válido para este usuario (parámetro personalizado rut o lis.person_sourcedid).',
      });
    }
    const enrollment = await this.stores.enrollments.get(course, learner.sub);
    if (enrollment?.exempt) {
      throw new AppError('learner-exempt', 409, 'Estás marcado como exento de SENCE en este curso: no necesitas registrar asistencia en SENCE.', {
        staffHint: 'El equipo del curso lo marcó como exento (becario). Quite la marca en su página del reporte si debe registrar asistencia.',
      });
    }
    const otec = await this.stores.otecs.get(settings.otecId);
    if (!otec) {
      throw new AppError('otec-not-found', 409, 'La configuración SENCE del curso está incompleta. Avísale a tu relator o coordinador.', {
        staffHint: 'El OTEC elegido para el curso ya no existe: elija otro en la configuración del curso.',
      });
    }
    // Issue #7: a course uses only an OTEC linked to its own platform.
    if (!isLinked(otec, course)) {
      throw new AppError('otec-not-found', 409, 'La configuración SENCE del curso está incompleta. Avísale a tu relator o coordinador.', {
        staffHint: 'El OTEC elegido para el curso ya no está vinculado a esta plataforma: elija otro en la configuración del curso, o pida al administrador de la plataforma que lo agregue.',
      });
    }

    let session = await this.currentActive(learner, course, now);
    if (session && session.state !== 'starting') {
      throw new AppError('sence-session-already-open', 409, session.state === 'open'
        ? 'Ya tienes una sesión SENCE abierta. Ciérrala antes de abrir otra.'
        : 'Estás cerrando tu sesión SENCE. Termina ese paso en la ventana de SENCE o espera unos minutos.');
    }
    if (!session) {
      const candidate = newSession({
        id: randomUUID(),
        learner,
        course,
        otecId: otec.id,
        environment: settings.environment,
        run: learner.run,
        otecRut: otec.rut,
        // The learner's own SENCE action (CodigoCurso, line, CodSence) when staff assigned one.
        settings: settingsForLearner(settings, enrollment),
        now,
      });
      const created = await this.stores.attendance.createSessionIfNoneActive(candidate);
      session = created.created ? created.session : created.existing;
      if (!created.created && session.state !== 'starting') {
        throw new AppError('sence-session-already-open', 409, 'Ya tienes una sesión SENCE abierta. Ciérrala antes de abrir otra.');
      }
    }
    // A reused session keeps the OTEC it was started with (the form must match its sent fields).
    const sessionOtec = session.otecId === otec.id ? otec : await this.stores.otecs.get(session.otecId);
    if (!sessionOtec) throw new AppError('otec-not-found', 409, 'La configuración SENCE del curso cambió. Vuelve a intentarlo en unos minutos.');
    const attempt = await this.attemptFor(session, 'start', now, info);
    const urls = this.callbackUrls(attempt);
    const form = buildStartForm({
      baseUrl: this.config.senceBaseUrls[session.environment],
      token: openSecret(sessionOtec.tokenSealed, this.config.tokenKey),
      session,
      urlRetoma: urls.retoma,
      urlError: urls.error,
    });
    return { form, session };
  }

  /**
   * The learner's start still waiting for SENCE, when a press of "Abrir sesión" that does not say
   * "continuar" should be shown it instead of sending a second SENCE window (issue #20 §11): SENCE
   * would open a second session for a second completed ClaveÚnica login, and the tool hears of one.
   * Null when there is none, or when it began less than DOUBLE_PRESS_SECONDS ago (a double click).
   */
  async pendingStart(learner: LearnerKey, course: CourseKey): Promise<PendingTripView | null> {
    const now = this.now();
    const session = await this.currentActive(learner, course, now);
    if (!session || session.state !== 'starting') return null;
    if (now.getTime() - session.createdAt.getTime() < DOUBLE_PRESS_SECONDS * 1000) return null;
    const ttl = this.config.attemptTtlMinutes;
    return {
      startedAtText: formatSantiagoTime(session.createdAt),
      giveUpAtText: formatSantiagoTime(new Date(session.createdAt.getTime() + ttl * 60_000)),
      waitMinutes: ttl,
    };
  }

  /** "Cerrar sesión" from the LMS panel. */
  async close(learner: LearnerKey, course: CourseKey, info: RequestInfo): Promise<{ form: AutoPostForm; session: AttendanceSession }> {
    const session = await this.currentActive(learner, course, this.now());
    return this.closeSession(session, info);
  }

  /** "Cerrar Sesión Sence" / "Volver a intentar" from the SENCE window, authorised by its window key. */
  async closeFromWindow(sessionId: string, windowKey: string, info: RequestInfo): Promise<{ form: AutoPostForm; session: AttendanceSession }> {
    const session = await this.sessionForWindow(sessionId, windowKey, info);
    const current = await this.expireOne(session, this.now(), info);
    return this.closeSession(ACTIVE_STATES.includes(current.state) ? current : null, info);
  }

  async retryStartFromWindow(sessionId: string, windowKey: string, info: RequestInfo): Promise<{ form: AutoPostForm; session: AttendanceSession }> {
    const session = await this.sessionForWindow(sessionId, windowKey, info);
    const [learner, course] = await Promise.all([
      this.stores.learners.get(session.learner),
      this.stores.courses.get(session.course),
    ]);
    if (!learner) throw new AppError('not-found', 404, 'No encontramos tus datos. Vuelve a entrar desde tu curso.');
    return this.start(learner, course, info);
  }

  /** A SENCE answer arriving at UrlRetoma / UrlError. Nothing stored changes unless every check passes. */
  async receiveCallback(args: { kind: CallbackKind; attemptId: string; token: string; body: unknown; info: RequestInfo }): Promise<CallbackResult> {
    const now = this.now();
    const { kind, attemptId, token, info } = args;
    const attempt = /^[A-Za-z0-9_-]{12}$/.test(attemptId) ? await this.stores.attendance.getAttempt(attemptId) : null;
    if (!attempt || !tokenMatches(token, attempt.tokenHash)) {
      // A wrong token for a real attempt is shown in that attempt's course audit (issue #7).
      const owner = attempt ? await this.stores.attendance.getSession(attempt.sessionId) : null;
      await this.rejectCallback(info, attempt, 'callback-token', attempt ? 'wrong token' : 'unknown attempt', args.body, owner ?? undefined);
      throw new AppError('sence-callback-token', 403, 'Este enlace de respuesta de SENCE no es válido. Vuelve a tu curso y abre la sesión desde el panel.');
    }
    const session = await this.stores.attendance.getSession(attempt.sessionId);
    if (!session) {
      await this.rejectCallback(info, attempt, 'session', 'session not found', args.body);
      throw new AppError('not-found', 404, 'No encontramos la sesión de esta respuesta. Vuelve a tu curso.');
    }
    const parsed = parseCallbackBody(args.body);
    if (!parsed.ok) {
      await this.rejectCallback(info, attempt, parsed.step, parsed.reason, args.body, session, parsed.field);
      throw new AppError('sence-callback-invalid', 400, 'La respuesta recibida no tiene el formato de SENCE. No se registró nada.');
    }
    const verdict = verifyCallback({ kind, attempt, session, fields: parsed.fields, now });
    if (!verdict.ok) {
      await this.rejectCallback(info, attempt, verdict.step, verdict.reason, parsed.raw, session);
      throw callbackError(verdict.code, attempt.phase);
    }
    const codes = verdict.codes;
    const f = parsed.fields;
    const next =
      attempt.phase === 'start'
        ? verdict.outcome === 'success'
          ? applyStartSuccess(session, { IdSesionSence: f.IdSesionSence ?? '', FechaHora: f.FechaHora, ZonaHoraria: f.ZonaHoraria }, now)
          : applyStartError(session, codes, now)
        : verdict.outcome === 'success'
          ? applyCloseSuccess(session, now)
          : applyCloseError(session, codes, now);
    const provenance = this.provenance(info, session);
    // Attempt used, session written, answer kept: one unit (atomic on SQLite, see the port).
    const recorded = await this.stores.attendance.recordCallback({
      attemptId: attempt.id,
      usedAt: now,
      next,
      expectedVersion: session.version,
      answer: {
        id: randomUUID(),
        sessionId: session.id,
        attemptId: attempt.id,
        phase: attempt.phase,
        outcome: verdict.outcome,
        errorCodes: codes,
        payload: parsed.raw,
        receivedAt: now,
        ...provenance,
      },
    });
    if (!recorded.ok) {
      if (recorded.conflict === 'attempt-used') await this.rejectCallback(info, attempt, 'attempt-unused', 'replayed (concurrent)', parsed.raw, session);
      else await this.rejectCallback(info, attempt, 'session-version', 'session changed concurrently', parsed.raw, session);
      throw callbackError('sence-callback-replayed', attempt.phase);
    }
    const stored = recorded.session;
    await this.audit({
      event: 'callback-accepted',
      accepted: true,
      reason: `${attempt.phase} ${verdict.outcome}${codes.length ? ' ' + codes.join(';') : ''}`,
      sourceIp: info.sourceIp,
      learner: session.learner,
      course: session.course,
      sessionId: session.id,
      details: { attemptId: attempt.id, kind, state: stored.state, ...provenance },
    });
    return {
      phase: attempt.phase,
      outcome: verdict.outcome,
      session: stored,
      errors: codes.map(describeSenceError),
      windowKey: this.windowKey(stored.id),
    };
  }

  /** Expires every active session that is due (abandoned starts, sessions past the limit). */
  async sweep(): Promise<number> {
    const now = this.now();
    const active = await this.stores.attendance.listSessionsInStates([...ACTIVE_STATES], 1000);
    return (await this.expireDue(active, now, null)).length;
  }

  windowKey(sessionId: string): string {
    return deriveWindowKey(this.config.tokenKey, sessionId);
  }

  // ---------------------------------------------------------------------------------------------

  private async closeSession(session: AttendanceSession | null, info: RequestInfo): Promise<{ form: AutoPostForm; session: AttendanceSession }> {
    const now = this.now();
    if (!session || session.state === 'starting') {
      throw new AppError('sence-no-open-session', 409, 'No tienes una sesión SENCE abierta que cerrar. Si quieres registrar asistencia, abre una sesión.');
    }
    let closing = session;
    if (session.state === 'open') {
      const next = requestClose(session, now);
      if (next.state !== 'closing') {
        await this.stores.attendance.updateSession(next, session.version);
        throw new AppError('sence-no-open-session', 409, next.endReason ?? 'Tu sesión SENCE ya no está abierta.');
      }
      const stored = await this.stores.attendance.updateSession(next, session.version);
      if (!stored) throw new AppError('sence-no-open-session', 409, 'Tu sesión cambió mientras la cerrabas. Actualiza el panel e inténtalo de nuevo.');
      closing = stored;
    }
    const otec = await this.stores.otecs.get(closing.otecId);
    if (!otec) throw new AppError('otec-not-found', 409, 'La configuración SENCE del curso está incompleta. Avísale a tu relator o coordinador.');
    const attempt = await this.attemptFor(closing, 'close', now, info);
    const urls = this.callbackUrls(attempt);
    const form = buildCloseForm({
      baseUrl: this.config.senceBaseUrls[closing.environment],
      token: openSecret(otec.tokenSealed, this.config.tokenKey),
      session: closing,
      urlRetoma: urls.retoma,
      urlError: urls.error,
    });
    return { form, session: closing };
  }

  private async currentActive(learner: LearnerKey, course: CourseKey, now: Date): Promise<AttendanceSession | null> {
    const session = await this.stores.attendance.findActiveSession(learner, course);
    if (!session) return null;
    const current = await this.expireOne(session, now, null);
    return ACTIVE_STATES.includes(current.state) ? current : null;
  }

  private async expireDue(sessions: AttendanceSession[], now: Date, info: RequestInfo | null): Promise<AttendanceSession[]> {
    const changed: AttendanceSession[] = [];
    for (const s of sessions) {
      const after = await this.expireOne(s, now, info);
      if (after !== s) changed.push(after);
    }
    return changed;
  }

  private async expireOne(session: AttendanceSession, now: Date, info: RequestInfo | null): Promise<AttendanceSession> {
    const next = expireIfDue(session, now, this.config.attemptTtlMinutes);
    if (next === session || next.state === session.state) return session;
    const stored = await this.stores.attendance.updateSession(next, session.version);
    if (!stored) return (await this.stores.attendance.getSession(session.id)) ?? session;
    if (stored.state === 'expired' || stored.state === 'abandoned') {
      await this.audit({
        event: stored.state === 'expired' ? 'session-expired' : 'session-abandoned',
        accepted: true,
        reason: stored.endReason ?? stored.state,
        sourceIp: info?.sourceIp ?? null,
        learner: stored.learner,
        course: stored.course,
        sessionId: stored.id,
        details: {},
      });
    }
    return stored;
  }

  /** The unused attempt of this phase, or a new one (its token is derived: a reused attempt renders the same form). */
  private async attemptFor(session: AttendanceSession, phase: AttemptPhase, now: Date, info: RequestInfo): Promise<CallbackAttempt> {
    const existing = await this.stores.attendance.findOpenAttempt(session.id, phase, now);
    if (existing) return existing;
    const id = randomBytes(9).toString('base64url');
    const attempt: CallbackAttempt = {
      id,
      sessionId: session.id,
      phase,
      tokenHash: hashCallbackToken(deriveCallbackToken(this.config.tokenKey, id)),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.attemptTtlMinutes * 60_000),
      usedAt: null,
    };
    // Atomic on both stores: a concurrent double click (or another instance) may have made one first.
    const stored = await this.stores.attendance.createAttemptUnlessOpen(attempt, now);
    if (stored.id !== attempt.id) return stored;
    await this.audit({
      event: 'attempt-created',
      accepted: true,
      reason: `${phase} form sent to SENCE (${session.environment})`,
      sourceIp: info.sourceIp,
      learner: session.learner,
      course: session.course,
      sessionId: session.id,
      details: { attemptId: id, idSesionAlumno: session.idSesionAlumno },
    });
    return attempt;
  }

  private callbackUrls(attempt: CallbackAttempt): { retoma: string; error: string } {
    const suffix = `${attempt.id}.${deriveCallbackToken(this.config.tokenKey, attempt.id)}`;
    return {
      retoma: `${this.config.publicUrl}${CALLBACK_PATHS.retoma}${suffix}`,
      error: `${this.config.publicUrl}${CALLBACK_PATHS.error}${suffix}`,
    };
  }

  private async sessionForWindow(sessionId: string, windowKey: string, info: RequestInfo): Promise<AttendanceSession> {
    const session = /^[0-9a-f-]{36}$/.test(sessionId) ? await this.stores.attendance.getSession(sessionId) : null;
    if (!session || !tokenMatches(windowKey, hashCallbackToken(this.windowKey(session.id)))) {
      const now = this.now();
      // Repeated identical refusals are one entry with a count (issue #7).
      await this.stores.audit.recordRepeatable({
        id: randomUUID(),
        at: now,
        event: 'access-denied',
        accepted: false,
        reason: 'window key does not match the session',
        sourceIp: info.sourceIp,
        learner: session?.learner ?? null,
        course: session?.course ?? null,
        sessionId: session?.id ?? null,
        details: {},
      }, ['access-denied', 'window-key', info.sourceIp ?? '', session?.id ?? ''].join('\u0000'), new Date(now.getTime() - REPEATED_REJECTION_WINDOW_MS));
      throw new AppError('sence-callback-token', 403, 'Este botón ya no es válido. Vuelve a tu curso y usa el panel de asistencia.');
    }
    return session;
  }

  /**
   * `step` and `reason` come from a fixed set (the verification chain's literals), never from the
   * request: they make the fingerprint (issue #19). What the poster chose (a field's name) goes only
   * in the details, cut to FIELD_NAME_MAX_LENGTH.
   */
  private async rejectCallback(info: RequestInfo, attempt: CallbackAttempt | null, step: string, reason: string, body: unknown, session?: AttendanceSession, field?: string): Promise<void> {
    const now = this.now();
    const entry: AuditEntry = {
      id: randomUUID(),
      at: now,
      event: 'callback-rejected',
      accepted: false,
      reason: `${step}: ${reason}`,
      sourceIp: info.sourceIp,
      learner: session?.learner ?? null,
      course: session?.course ?? null,
      sessionId: session?.id ?? attempt?.sessionId ?? null,
      details: {
        attemptId: attempt?.id ?? null, step, ...(field === undefined ? {} : { field: field.slice(0, FIELD_NAME_MAX_LENGTH) }),
        fields: summariseBody(body), ...this.provenance(info, session ?? null),
      },
    };
    // A flood of identical rejections (same step, reason, address and attempt) is one entry with a count.
    const fingerprint = ['callback-rejected', step, reason, info.sourceIp ?? '', attempt?.id ?? '', session?.id ?? ''].join('\u0000');
    await this.stores.audit.recordRepeatable(entry, fingerprint, new Date(now.getTime() - REPEATED_REJECTION_WINDOW_MS));
  }

  /**
   * Where a callback came from (issue #7 finding 7, issue #20 §5; the rule: src/sence/callback-origin.ts).
   * `originVerified` is true for SENCE's origin, false only on evidence (another site named), and
   * absent when the browser named none (`Origin: null`, no Referer): kept quietly, never marked.
   */
  private provenance(info: RequestInfo, session: AttendanceSession | null): { origin: string | null; referer: string | null; originVerified?: boolean } {
    const origin = info.origin ? info.origin.slice(0, 200) : null;
    const referer = info.referer ? info.referer.slice(0, 500) : null;
    const expected = session
      ? [originOfUrl(this.config.senceBaseUrls[session.environment])]
      : [originOfUrl(this.config.senceBaseUrls.test), originOfUrl(this.config.senceBaseUrls.production)];
    const seen = judgeCallbackOrigin({ origin, referer }, expected);
    return { origin, referer, ...(seen === 'missing' ? {} : { originVerified: seen === 'sence' }) };
  }

  private async audit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    await this.stores.audit.record({ id: randomUUID(), at: this.now(), ...entry });
  }
}

function originOfUrl(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function activeView(s: AttendanceSession, now: Date, ttlMinutes: number): ActiveSessionView {
  const clock = clockStatus(s, now);
  // The same deadlines expireIfDue applies: the start's or the close request's time plus the TTL.
  const tripStart = s.state === 'starting' ? s.createdAt : s.state === 'closing' ? s.closeRequestedAt : null;
  return {
    id: s.id,
    state: s.state,
    openedAt: s.openedAt?.toISOString() ?? null,
    elapsedSeconds: clock.elapsedSeconds,
    remainingSeconds: clock.remainingSeconds,
    level: clock.level,
    limitMinutes: s.limitMinutes,
    warningMinutes: s.warningMinutes,
    tripStartedAtText: tripStart ? formatSantiagoTime(tripStart) : null,
    tripGiveUpAtText: tripStart ? formatSantiagoTime(new Date(tripStart.getTime() + ttlMinutes * 60_000)) : null,
    tripWaitMinutes: ttlMinutes,
    notice: s.state === 'open' ? s.endReason : null,
  };
}

function callbackError(code: ErrorCode, phase: AttemptPhase): AppError {
  switch (code) {
    case 'sence-callback-replayed':
      // Two SENCE windows for one start, both completed (issue #20 §11): the first one counts.
      if (phase === 'start') {
        return new AppError(code, 409, 'Esta respuesta de SENCE ya fue registrada: tu sesión SENCE ya se había abierto desde otra ventana, y esa es la que cuenta en tu curso (esta ventana no abrió otra en tu curso). Cierra esta ventana y vuelve al panel de asistencia del curso, donde verás tu sesión abierta y el botón para cerrarla.');
      }
      return new AppError(code, 409, 'Esta respuesta de SENCE ya fue registrada. Revisa tu panel de asistencia en el curso.');
    case 'sence-attempt-expired':
      return new AppError(code, 410, 'Esta respuesta de SENCE llegó demasiado tarde. Vuelve a tu curso y abre la sesión nuevamente.');
    case 'sence-callback-mismatch':
      return new AppError(code, 400, 'La respuesta de SENCE no corresponde a tu sesión. No se registró nada; vuelve a tu curso e inténtalo otra vez.');
    default:
      return new AppError('sence-callback-invalid', 400, 'La respuesta recibida no tiene el formato de SENCE. No se registró nada.');
  }
}

/** Non-secret summary of a posted body for the audit log (names and short values). */
function summariseBody(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>).slice(0, 25)) {
    out[k.slice(0, 40)] = (Array.isArray(v) ? v.join(',') : String(v)).slice(0, 160);
  }
  return out;
}
