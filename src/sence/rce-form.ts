/**
 * The HTML forms the learner's browser posts to SENCE (RCE M6 §3.2 IniciarSesion, §3.3 CerrarSesion).
 * Field names are exact (RCE M6 Anexo 2, error 200 on a misspelled name); every RCE length limit is
 * asserted here so a bad configuration fails in our hands, not on SENCE's page.
 */
import { AppError } from '../errors';
import type { AttendanceSession } from '../domain/types';

export interface AutoPostForm {
  action: string;
  fields: Record<string, string>;
}

export interface RceFormArgs {
  /** e.g. https://sistemas.sence.cl/rcetest/Registro (no trailing slash). */
  baseUrl: string;
  /** Plain OTEC token (opened from its sealed form just before rendering). */
  token: string;
  session: AttendanceSession;
  urlRetoma: string;
  urlError: string;
}

function invalid(message: string, staffHint: string, field: string): AppError {
  return new AppError('settings-invalid', 400, message, { staffHint, details: { field } });
}

const ASK_OTEC = 'Avísale a tu OTEC o a tu relator para que revise la configuración del curso.';

function assertText(field: string, value: string, max: number, allowEmpty = false): void {
  if (!allowEmpty && value.trim() === '') {
    // RCE M6 Anexo 2 (200): mandatory field empty or whitespace-only.
    throw invalid(`Falta un dato del curso para registrar tu asistencia en SENCE (${field}). ${ASK_OTEC}`, `${field} está vacío.`, field);
  }
  if (value.length > max) {
    throw invalid(
      `Un dato del curso es demasiado largo para SENCE (${field}). ${ASK_OTEC}`,
      `${field} tiene ${value.length} caracteres; SENCE acepta como máximo ${max}.`,
      field,
    );
  }
}

function assertUrl(field: string, value: string): void {
  // RCE M6 §2.1: UrlRetoma/UrlError Text/100 (v1.1.5+), absolute URL (202/203 if malformed).
  assertText(field, value, 100);
  let parsed: URL | null = null;
  try {
    parsed = new URL(value);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw invalid(`La dirección de retorno para SENCE no es válida (${field}). ${ASK_OTEC}`, `${field} debe ser una URL absoluta http(s): "${value}".`, field);
  }
}

function buildFields(args: RceFormArgs): Record<string, string> {
  const { sent } = args.session;
  const token = args.token.trim().toUpperCase();
  // RCE M6 §2.1: RutOtec Text/10.
  assertText('RutOtec', sent.RutOtec, 10);
  // RCE M6 §2.1: Token Text/36 (GUID from RTS; upper case per SIC).
  if (token.length !== 36) {
    throw invalid(`La credencial de la OTEC no es válida. ${ASK_OTEC}`, `El token tiene ${token.length} caracteres; SENCE exige 36.`, 'Token');
  }
  // RCE M6 §2.1/§2.3: CodSence Text/10; blank only for line 1.
  assertText('CodSence', sent.CodSence, 10, sent.LineaCapacitacion === '1');
  // RCE M6 §2.1: CodigoCurso Text/50.
  assertText('CodigoCurso', sent.CodigoCurso, 50);
  // RCE M6 §2.1: LineaCapacitacion Integer 1, 3 or 6 (206).
  if (!['1', '3', '6'].includes(sent.LineaCapacitacion)) {
    throw invalid(`La línea de capacitación del curso no es válida. ${ASK_OTEC}`, `LineaCapacitacion "${sent.LineaCapacitacion}" debe ser 1, 3 o 6.`, 'LineaCapacitacion');
  }
  // RCE M6 §2.1: RunAlumno Text/10.
  assertText('RunAlumno', sent.RunAlumno, 10);
  // RCE M6 §2.1: IdSesionAlumno Text/149.
  assertText('IdSesionAlumno', sent.IdSesionAlumno, 149);
  assertUrl('UrlRetoma', args.urlRetoma);
  assertUrl('UrlError', args.urlError);
  return {
    RutOtec: sent.RutOtec,
    Token: token,
    CodSence: sent.CodSence,
    CodigoCurso: sent.CodigoCurso,
    LineaCapacitacion: sent.LineaCapacitacion,
    RunAlumno: sent.RunAlumno,
    IdSesionAlumno: sent.IdSesionAlumno,
    UrlRetoma: args.urlRetoma,
    UrlError: args.urlError,
  };
}

function action(baseUrl: string, operation: 'IniciarSesion' | 'CerrarSesion'): string {
  // RCE M6 Anexo 1: …/Registro/IniciarSesion and …/Registro/CerrarSesion (manual's casing).
  return `${baseUrl.replace(/\/+$/, '')}/${operation}`;
}

/** The IniciarSesion form: exactly the nine start fields. */
export function buildStartForm(args: RceFormArgs): AutoPostForm {
  return { action: action(args.baseUrl, 'IniciarSesion'), fields: buildFields(args) };
}

/** The CerrarSesion form: the values sent at start plus IdSesionSence (RCE M6 §2.2). */
export function buildCloseForm(args: RceFormArgs): AutoPostForm {
  const idSesionSence = args.session.idSesionSence;
  if (idSesionSence === null) {
    throw new AppError('sence-no-open-session', 409, 'No tienes una sesión abierta en SENCE para cerrar.', {
      staffHint: 'La sesión no tiene IdSesionSence: SENCE nunca confirmó su inicio.',
      details: { sessionId: args.session.id, state: args.session.state },
    });
  }
  const fields = buildFields(args);
  // RCE M6 §2.2: IdSesionSence Text/149, the value returned by the successful start.
  assertText('IdSesionSence', idSesionSence, 149);
  return { action: action(args.baseUrl, 'CerrarSesion'), fields: { ...fields, IdSesionSence: idSesionSence } };
}
