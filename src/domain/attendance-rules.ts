/**
 * The life of one SENCE attendance session and its time accounting. Pure and immutable: every
 * function returns a new object (or the same one when nothing changes) and takes `now` as a
 * parameter instead of reading the clock.
 *
 *   starting ──start ok──> open ──requestClose──> closing ──close ok──> closed
 *      │ start error → start-failed     │ limit passed → expired    │ close error → open (retry)
 *      │ no callback → abandoned        │                            │ 301/304/305/310 → ended-by-sence
 *
 * `version` is never touched here: the store increments it on every successful update.
 */
import { AppError } from '../errors';
import { parseRun } from './rut';
import { describeSenceError } from './sence-error-catalogue';
import { formatAccredited, formatSantiagoTime } from './time-format';
import type {
  AttendanceSession,
  CourseKey,
  CourseSettings,
  LearnerKey,
  SenceEnvironment,
  SessionState,
} from './types';

/** States in which a learner has a session in progress (at most one per course). */
export const ACTIVE_STATES: readonly SessionState[] = Object.freeze(['starting', 'open', 'closing'] as const);

export function isActiveState(state: SessionState): boolean {
  return ACTIVE_STATES.includes(state);
}

const MINUTE = 60_000;
/** RCE M6 §2.1: IdSesionAlumno Text/149. */
const ID_SESION_ALUMNO_MAX = 149;
const ID_PREFIX = 'AS-';

export interface NewSessionArgs {
  id: string;
  learner: LearnerKey;
  course: CourseKey;
  otecId: string;
  environment: SenceEnvironment;
  run: string;
  otecRut: string;
  settings: CourseSettings;
  now: Date;
}

export function newSession(args: NewSessionArgs): AttendanceSession {
  const idSesionAlumno = `${ID_PREFIX}${args.id}`;
  // RCE M6 §2.1: IdSesionAlumno Text/149, unique per attempt (REFERENCE §7.3).
  if (args.id.trim() === '' || idSesionAlumno.length > ID_SESION_ALUMNO_MAX) {
    throw new AppError('internal', 500, 'No pudimos preparar tu sesión SENCE.', {
      staffHint: `El id de sesión debe producir un IdSesionAlumno de 1 a ${ID_SESION_ALUMNO_MAX} caracteres.`,
    });
  }
  // RCE M6 §2.1 / Anexo 2 (207): RunAlumno sin puntos, con guion y DV válido.
  const run = parseRun(args.run);
  if (!run.ok) {
    throw new AppError('run-invalid', 400, 'Tu RUN no es válido, así que no podemos abrir tu sesión en SENCE.', {
      details: { reason: run.reason },
    });
  }
  // RCE M6 §2.1 / Anexo 2 (209): RutOtec sin puntos, con guion y DV válido.
  const otecRut = parseRun(args.otecRut);
  if (!otecRut.ok) {
    throw new AppError('otec-invalid', 400, 'La OTEC de este curso está mal configurada. Avísale a tu OTEC o a tu relator.', {
      staffHint: 'El RUT de la OTEC no es válido (formato xxxxxxxx-x con dígito verificador correcto).',
      details: { reason: otecRut.reason },
    });
  }
  const line = args.settings.lineaCapacitacion;
  return {
    id: args.id,
    learner: { ...args.learner },
    course: { ...args.course },
    otecId: args.otecId,
    environment: args.environment,
    idSesionAlumno,
    sent: {
      RutOtec: otecRut.run,
      // RCE M6 §2.3: CodSence is left blank for line 1 (Programas Sociales), even in rcetest.
      CodSence: line === 1 ? '' : args.settings.codSence,
      CodigoCurso: args.settings.codigoCurso,
      // RCE M6 §2.1: LineaCapacitacion Integer (1, 3 or 6), sent as form text.
      LineaCapacitacion: String(line),
      RunAlumno: run.run,
      IdSesionAlumno: idSesionAlumno,
    },
    state: 'starting',
    limitMinutes: args.settings.sessionLimitMinutes,
    warningMinutes: args.settings.warningMinutes,
    idSesionSence: null,
    senceStartFechaHora: null,
    senceZonaHoraria: null,
    createdAt: args.now,
    openedAt: null,
    closeRequestedAt: null,
    endedAt: null,
    accreditedSeconds: 0,
    lastErrorCodes: [],
    endReason: null,
    version: 0,
  };
}

function wrongState(session: AttendanceSession, action: string): AppError {
  return new AppError('sence-callback-replayed', 409, 'Esta respuesta de SENCE ya no corresponde al estado de tu sesión. Recarga la página.', {
    staffHint: `No se puede ${action} una sesión en estado "${session.state}".`,
    details: { sessionId: session.id, state: session.state },
  });
}

function limitEndsAt(session: AttendanceSession): Date | null {
  return session.openedAt ? new Date(session.openedAt.getTime() + session.limitMinutes * MINUTE) : null;
}

function limitPassed(session: AttendanceSession, now: Date): boolean {
  const end = limitEndsAt(session);
  return end !== null && end.getTime() <= now.getTime();
}

function expiredReason(session: AttendanceSession): string {
  const limit = formatAccredited(session.limitMinutes * 60);
  return `Pasó el tiempo máximo de ${limit} desde que abriste tu sesión en SENCE y no la cerraste a tiempo. Como SENCE solo registra el tiempo de las sesiones cerradas, perdiste el tiempo de esta sesión. Abre una nueva sesión para seguir registrando asistencia y recuerda cerrarla antes del límite.`;
}

/** The session as expired: no time accredited, ended when the limit passed. */
function expire(session: AttendanceSession): AttendanceSession {
  return {
    ...session,
    state: 'expired',
    closeRequestedAt: null,
    endedAt: limitEndsAt(session),
    accreditedSeconds: 0,
    endReason: expiredReason(session),
  };
}

/** SENCE accepted the start: the clock starts now (server time). */
export function applyStartSuccess(
  session: AttendanceSession,
  fields: { IdSesionSence: string; FechaHora?: string; ZonaHoraria?: string },
  now: Date,
): AttendanceSession {
  if (session.state !== 'starting') throw wrongState(session, 'abrir');
  const idSesionSence = fields.IdSesionSence.trim();
  // RCE M6 §3: a successful start carries IdSesionSence; it must be stored to close later.
  if (idSesionSence === '') {
    throw new AppError('sence-callback-invalid', 400, 'SENCE no devolvió el identificador de tu sesión. Intenta abrirla nuevamente.', {
      staffHint: 'Respuesta de inicio exitoso sin IdSesionSence.',
    });
  }
  return {
    ...session,
    state: 'open',
    idSesionSence,
    // RCE M6 §3: FechaHora Text/19 and ZonaHoraria Text/100 are stored as received.
    senceStartFechaHora: fields.FechaHora?.trim() || null,
    senceZonaHoraria: fields.ZonaHoraria?.trim() || null,
    openedAt: now,
    lastErrorCodes: [],
    endReason: null,
  };
}

function codesText(codes: readonly string[]): string {
  return codes.length > 0 ? codes.join(', ') : 'sin número';
}

/** SENCE refused the start (GlosaError). */
export function applyStartError(session: AttendanceSession, codes: string[], now: Date): AttendanceSession {
  if (session.state !== 'starting') throw wrongState(session, 'rechazar el inicio de');
  const first = codes[0];
  const detail = first === undefined ? 'SENCE no indicó el motivo.' : describeSenceError(first).description;
  return {
    ...session,
    state: 'start-failed',
    endedAt: now,
    lastErrorCodes: [...codes],
    endReason: `SENCE no pudo abrir tu sesión (error ${codesText(codes)}). ${detail}`,
  };
}

/**
 * The learner asks to close: the close form will be posted. If the limit already passed, the
 * session is returned expired instead (the caller checks `state`).
 */
export function requestClose(session: AttendanceSession, now: Date): AttendanceSession {
  if (session.state !== 'open') {
    throw new AppError('sence-no-open-session', 409, 'No tienes una sesión abierta en SENCE para cerrar.', {
      details: { sessionId: session.id, state: session.state },
    });
  }
  if (limitPassed(session, now)) return expire(session);
  return { ...session, state: 'closing', closeRequestedAt: now, endReason: null };
}

/** SENCE accepted the close: accredit the elapsed time, capped at the session limit. */
export function applyCloseSuccess(session: AttendanceSession, now: Date): AttendanceSession {
  if ((session.state !== 'closing' && session.state !== 'open') || session.openedAt === null) {
    throw wrongState(session, 'cerrar');
  }
  const elapsed = Math.max(0, Math.floor((now.getTime() - session.openedAt.getTime()) / 1000));
  return {
    ...session,
    state: 'closed',
    endedAt: now,
    accreditedSeconds: Math.min(elapsed, session.limitMinutes * 60),
    lastErrorCodes: [],
    endReason: 'Sesión correctamente cerrada en SENCE.',
  };
}

/**
 * SENCE refused the close. Codes meaning "that session no longer exists" end it with no time;
 * anything else returns it to 'open' so the learner can retry (or expired, if the limit passed).
 */
export function applyCloseError(session: AttendanceSession, codes: string[], now: Date): AttendanceSession {
  if (session.state !== 'closing' && session.state !== 'open') throw wrongState(session, 'rechazar el cierre de');
  // REFERENCE §7.6: on close, 301/304/305/310 mean the session is no longer open on SENCE.
  if (codes.some((code) => describeSenceError(code).sessionGone)) {
    return {
      ...session,
      state: 'ended-by-sence',
      closeRequestedAt: null,
      endedAt: now,
      accreditedSeconds: 0,
      lastErrorCodes: [...codes],
      endReason: `SENCE respondió que tu sesión ya no está abierta (error ${codesText(codes)}), así que no pudo registrar su cierre y esta sesión no suma tiempo. Abre una nueva sesión para seguir registrando asistencia.`,
    };
  }
  const reopened: AttendanceSession = { ...session, state: 'open', closeRequestedAt: null, lastErrorCodes: [...codes] };
  return limitPassed(reopened, now) ? expire(reopened) : reopened;
}

/**
 * Ends sessions whose time ran out:
 * - 'starting' with no callback after the attempt TTL → 'abandoned' (REFERENCE §3: no callback
 *   when the learner leaves ClaveÚnica);
 * - 'open'/'closing' past the limit → 'expired' (no time);
 * - 'closing' with no close callback after the TTL, still within the limit → back to 'open', with
 *   an `endReason` telling the learner the close did not come back (issue #20 §10).
 * Returns the same object when nothing is due.
 */
export function expireIfDue(session: AttendanceSession, now: Date, attemptTtlMinutes: number): AttendanceSession {
  const ttl = attemptTtlMinutes * MINUTE;
  if (session.state === 'starting') {
    const deadline = session.createdAt.getTime() + ttl;
    if (deadline > now.getTime()) return session;
    return {
      ...session,
      state: 'abandoned',
      endedAt: new Date(deadline),
      endReason: `No recibimos respuesta de SENCE al ingreso que empezaste a las ${formatSantiagoTime(session.createdAt)}: probablemente elegiste «Salir sin ingresar» o cerraste la ventana de SENCE antes de terminar con tu ClaveÚnica. Esa sesión no se abrió y no suma tiempo. Para registrar asistencia, presiona «CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE».`,
    };
  }
  if (session.state !== 'open' && session.state !== 'closing') return session;
  if (limitPassed(session, now)) return expire(session);
  if (
    session.state === 'closing' &&
    session.closeRequestedAt !== null &&
    session.closeRequestedAt.getTime() + ttl <= now.getTime()
  ) {
    return {
      ...session,
      state: 'open',
      closeRequestedAt: null,
      // Shown on the learner's panel while the session stays open (issue #20 §10); requestClose clears it.
      endReason: `No recibimos respuesta de SENCE al cierre que pediste a las ${formatSantiagoTime(session.closeRequestedAt)}: probablemente elegiste «Salir sin ingresar» o cerraste la ventana de SENCE antes de terminar. Tu sesión sigue abierta en SENCE: ciérrala con «CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE» antes del límite o perderás su tiempo.`,
    };
  }
  return session;
}

export type ClockLevel = 'ok' | 'warning' | 'danger' | 'over';

export interface ClockStatus {
  elapsedSeconds: number;
  /** Never negative: 0 once the limit passed. */
  remainingSeconds: number;
  level: ClockLevel;
}

/**
 * The on-screen clock (REFERENCE §5.3: timer + alert 10 min before the limit). Colours: green 'ok',
 * amber 'warning' (≤ 3 × warning left), red 'danger' (≤ warning left: 2 h 50 min of a 3 h limit),
 * 'over' at the limit.
 */
export function clockStatus(session: AttendanceSession, now: Date): ClockStatus {
  const limitSeconds = session.limitMinutes * 60;
  const warningSeconds = session.warningMinutes * 60;
  let elapsedSeconds = 0;
  if (session.openedAt !== null) {
    const until = isActiveState(session.state) ? now : (session.endedAt ?? now);
    elapsedSeconds = Math.max(0, Math.floor((until.getTime() - session.openedAt.getTime()) / 1000));
  }
  const remaining = limitSeconds - elapsedSeconds;
  let level: ClockLevel = 'ok';
  if (remaining <= 0) level = 'over';
  else if (remaining <= warningSeconds) level = 'danger';
  else if (remaining <= 3 * warningSeconds) level = 'warning';
  return { elapsedSeconds, remainingSeconds: Math.max(0, remaining), level };
}

/** "TIEMPO ACREDITADO EN SENCE": the sum of the closed sessions. */
export function totalAccreditedSeconds(sessions: readonly AttendanceSession[]): number {
  return sessions.reduce((sum, s) => (s.state === 'closed' ? sum + s.accreditedSeconds : sum), 0);
}

/** "MARCA DE ACCESO EN SENCE": SENCE accepted at least one start (REFERENCE §5.4). */
export function hasAccessMark(sessions: readonly AttendanceSession[]): boolean {
  return sessions.some((s) => s.openedAt !== null);
}
