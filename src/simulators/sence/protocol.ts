/**
 * RCE request validation as the emulator performs it (REFERENCE.md §2 and §4). One code per
 * request: the first failing rule in the order below wins (multi-code answers such as "211;204" are
 * only produced through failNext()).
 */
import { canonicalRut, isWireRut } from './rut';

export type RceOperation = 'IniciarSesion' | 'CerrarSesion';
export type RceEnvironment = 'rcetest' | 'rce';

export interface EmulatedOtec {
  /** '76123456-0' style, normalised (no dots, hyphen, upper-case K). */
  rut: string;
  /** Active tokens, upper-case GUIDs. */
  tokens: string[];
  revokedTokens: string[];
}

export interface EmulatedCourse {
  /** 10 digits; '' for line 1. */
  codSence: string;
  codigoCurso: string;
  lineaCapacitacion: 1 | 3 | 6;
  otecRut: string;
  state: 'active' | 'finished' | 'annulled';
  /** YYYY-MM-DD (inclusive, America/Santiago calendar day). */
  startDate: string;
  endDate: string;
  /** RUNs, '12345678-5' style. */
  roster: string[];
  elearning: boolean;
}

export interface EmulatorState {
  otecs: EmulatedOtec[];
  courses: EmulatedCourse[];
  /** ClaveÚnica stand-in: RUN -> password */
  people: Record<string, string>;
  /** SENCE-side expiry, default 180: closing later gives 301. */
  sessionMaxMinutes: number;
}

export interface EmulatedSession {
  run: string;
  codSence: string;
  codigoCurso: string;
  idSesionAlumno: string;
  openedAt: Date;
  closedAt: Date | null;
  /** Environment the session was opened in; a session is only closable in the same one. */
  env: RceEnvironment;
}

/** Where an error answer can go: posted back to UrlError, or only shown on SENCE's own page. */
export type Delivery = 'post' | 'page';

export type Verdict =
  | { ok: true; wildcard: boolean; course: EmulatedCourse | null }
  | { ok: false; code: string; delivery: Delivery };

export const FIELD = {
  rutOtec: 'RutOtec',
  token: 'Token',
  codSence: 'CodSence',
  codigoCurso: 'CodigoCurso',
  linea: 'LineaCapacitacion',
  runAlumno: 'RunAlumno',
  idSesionAlumno: 'IdSesionAlumno',
  urlRetoma: 'UrlRetoma',
  urlError: 'UrlError',
  idSesionSence: 'IdSesionSence',
} as const;

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const MAX_URL = 100;
const MAX_ID_SESION = 149;
const MAX_CODIGO_CURSO = 50;

function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/** Absolute http(s) URL of at most 100 characters, with no surrounding or embedded whitespace. */
export function isCallbackUrl(value: string): boolean {
  if (value.length > MAX_URL || /\s/.test(value)) return false;
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** CodSence as the course table stores it: '' for line 1 (a blank or whitespace value, as some plugins send). */
export function normalisedCodSence(fields: Record<string, string>): string {
  const raw = fields[FIELD.codSence] ?? '';
  return fields[FIELD.linea] === '1' ? raw.trim() : raw;
}

function fail(code: string, delivery: Delivery = 'post'): Verdict {
  return { ok: false, code, delivery };
}

/** Validates an IniciarSesion/CerrarSesion request (all rules except the close-session 301 checks). */
export function validateRequest(
  op: RceOperation,
  env: RceEnvironment,
  fields: Record<string, string>,
  state: EmulatorState,
  today: string,
): Verdict {
  const urlRetoma = fields[FIELD.urlRetoma];
  const urlError = fields[FIELD.urlError];
  // 201: nowhere to post back to.
  if (isBlank(urlRetoma) || isBlank(urlError) || urlRetoma === undefined || urlError === undefined) return fail('201', 'page');
  const urlErrorOk = isCallbackUrl(urlError);
  // 202: UrlRetoma malformed -> reported on UrlError (when that one is usable).
  if (!isCallbackUrl(urlRetoma)) return fail('202', urlErrorOk ? 'post' : 'page');
  // 203: UrlError malformed -> cannot post back.
  if (!urlErrorOk) return fail('203', 'page');

  // 200: mandatory fields (exact, case-sensitive names).
  const mandatory: string[] = [FIELD.rutOtec, FIELD.token, FIELD.codigoCurso, FIELD.linea, FIELD.runAlumno, FIELD.idSesionAlumno];
  if (op === 'CerrarSesion') mandatory.push(FIELD.idSesionSence);
  if (mandatory.some((name) => isBlank(fields[name]))) return fail('200');
  const linea = fields[FIELD.linea] ?? '';
  const codSenceRaw = fields[FIELD.codSence];
  // CodSence must be sent; it may be blank only for line 1.
  if (codSenceRaw === undefined || (linea !== '1' && isBlank(codSenceRaw))) return fail('200');
  // Longer than the manual's 149-char limit: the manual does not say which code; the emulator uses 304.
  if ((fields[FIELD.idSesionAlumno] ?? '').length > MAX_ID_SESION) return fail('304');
  if (op === 'CerrarSesion' && (fields[FIELD.idSesionSence] ?? '').length > MAX_ID_SESION) return fail('304');

  // 206: training line.
  if (linea !== '1' && linea !== '3' && linea !== '6') return fail('206');

  // 209: OTEC RUT.
  const rutOtec = fields[FIELD.rutOtec] ?? '';
  if (!isWireRut(rutOtec)) return fail('209');

  // 303 / 211 / 212: token. Matching is exact: tokens are stored upper-case, a lower-case token is "unknown".
  const token = fields[FIELD.token] ?? '';
  if (!GUID.test(token)) return fail('303');
  const owner = state.otecs.find((o) => o.tokens.includes(token) || o.revokedTokens.includes(token));
  if (!owner) return fail('303');
  if (canonicalRut(owner.rut) !== canonicalRut(rutOtec)) return fail('211');
  if (!owner.tokens.includes(token)) return fail('212');

  // 204 / 205: code formats (and the rcetest-only "-1" wildcards).
  const codigoCurso = fields[FIELD.codigoCurso] ?? '';
  let wildcard = false;
  if (linea === '1') {
    // Line 1 (Programas Sociales): CodSence stays blank, even in rcetest.
    if (!isBlank(codSenceRaw)) return fail('204');
  } else if (env === 'rcetest' && codSenceRaw === '-1') {
    wildcard = true;
  } else if (!/^\d{10}$/.test(codSenceRaw)) {
    return fail('204');
  }
  if (env === 'rcetest' && codigoCurso === '-1') {
    wildcard = true;
  } else if ((linea !== '6' && codigoCurso.length < 7) || codigoCurso.length > MAX_CODIGO_CURSO) {
    return fail('205');
  }

  let course: EmulatedCourse | null = null;
  if (!wildcard) {
    const codSence = normalisedCodSence(fields);
    if (linea !== '1' && !state.courses.some((c) => c.codSence === codSence)) return fail('204');
    if (!state.courses.some((c) => c.codigoCurso === codigoCurso)) return fail('205');
    course = state.courses.find((c) => c.codSence === codSence && c.codigoCurso === codigoCurso) ?? null;
    if (!course) return fail('306');
    if (canonicalRut(course.otecRut) !== canonicalRut(rutOtec)) return fail('308');
    // The action exists but under another line: the manual's 301 ("línea de capacitación o código incorrecto").
    if (String(course.lineaCapacitacion) !== linea) return fail('301');
    if (!course.elearning) return fail('307');
    if (course.state !== 'active') return fail('310');
    if (today < course.startDate || today > course.endDate) return fail('309');
  }

  // 207 / 208: learner.
  const run = fields[FIELD.runAlumno] ?? '';
  if (!isWireRut(run)) return fail('207');
  if (course && !course.roster.some((r) => canonicalRut(r) === canonicalRut(run))) return fail('208');

  return { ok: true, wildcard, course };
}

/**
 * Close-only check (301): IdSesionSence must name an open session of this environment, for the same
 * learner and course codes, opened no more than sessionMaxMinutes ago.
 */
export function checkCloseSession(
  env: RceEnvironment,
  fields: Record<string, string>,
  sessions: Map<string, EmulatedSession>,
  now: Date,
  sessionMaxMinutes: number,
): string | null {
  const session = sessions.get(fields[FIELD.idSesionSence] ?? '');
  if (!session || session.env !== env || session.closedAt !== null) return '301';
  if (canonicalRut(session.run) !== canonicalRut(fields[FIELD.runAlumno] ?? '')) return '301';
  if (session.codSence !== normalisedCodSence(fields) || session.codigoCurso !== (fields[FIELD.codigoCurso] ?? '')) return '301';
  if (now.getTime() - session.openedAt.getTime() > sessionMaxMinutes * 60_000) return '301';
  return null;
}
