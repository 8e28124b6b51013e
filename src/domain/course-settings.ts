/**
 * Pre-flight validation of what staff type in the course settings and OTEC forms (REFERENCE §7.2),
 * so SENCE errors 204–206, 209 and 211/303 are caught before a learner ever meets them.
 * Inputs are form values (strings); every error message is Spanish and says what to fix.
 */
import { parseRun } from './rut';
import type { CourseSettings, SenceEnvironment, TrainingLine } from './types';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

export interface CourseSettingsContext {
  otecIds: string[];
  publicUrl: string;
  defaults: { sessionLimitMinutes: number; warningMinutes: number };
  /** LTIK_MAX_AGE_MINUTES: a launch's panel must outlive the session by an hour (as config checks for the default). */
  ltikMaxAgeMinutes: number;
}

/** How much longer than a SENCE session the panel's launch (its ltik) has to last. */
export const LTIK_MARGIN_MINUTES = 60;

/** The longest session limit a course may set when a launch lasts `ltikMaxAgeMinutes`. */
export function maxSessionLimitMinutes(ltikMaxAgeMinutes: number): number {
  return Math.min(LIMIT_MAX, ltikMaxAgeMinutes - LTIK_MARGIN_MINUTES);
}

/** Our longest callback path + one-time token appended to PUBLIC_URL (see src/sence routes). */
export const CALLBACK_PATH_MAX_LENGTH = 42;
/** RCE M6 §2.1: UrlRetoma/UrlError Text/100 (v1.1.5+). */
export const SENCE_URL_MAX_LENGTH = 100;

/** Bounds of a session limit and of its warning, in minutes (the course form's, and SESSION_LIMIT_MINUTES / SESSION_WARNING_MINUTES's). */
export const LIMIT_MIN = 30;
export const LIMIT_MAX = 720;
export const WARNING_MIN = 1;
export const WARNING_MAX = 60;
const REQUIRED_HOURS_MAX = 2000;

/** A form value as trimmed text; numbers are accepted as their decimal text; anything else is null. */
function text(input: Record<string, unknown>, key: string): string | null {
  const value = input[key];
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function hasControlChars(value: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(value);
}

function wholeNumber(raw: string): number | null {
  return /^\d{1,6}$/.test(raw) ? Number(raw) : null;
}

export function validateCourseSettings(
  input: Record<string, unknown>,
  ctx: CourseSettingsContext,
): { ok: true; settings: CourseSettings } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};

  const otecId = text(input, 'otecId');
  if (!otecId) errors.otecId = 'Elija la OTEC que dicta este curso.';
  else if (!ctx.otecIds.includes(otecId)) errors.otecId = 'La OTEC elegida no existe. Elija una de la lista o regístrela primero.';

  const environmentRaw = text(input, 'environment');
  let environment: SenceEnvironment | null = null;
  if (environmentRaw === 'test' || environmentRaw === 'production') environment = environmentRaw;
  else errors.environment = 'Elija el ambiente de SENCE: prueba (rcetest) o producción (rce).';
  const isTest = environment === 'test';

  // RCE M6 §2.1: LineaCapacitacion 1 (Programas Sociales), 3 (Franquicia Tributaria) or 6 (FPT).
  const lineRaw = text(input, 'lineaCapacitacion');
  let line: TrainingLine | null = null;
  if (lineRaw === '1' || lineRaw === '3' || lineRaw === '6') line = Number(lineRaw) as TrainingLine;
  else errors.lineaCapacitacion = 'Elija la línea de capacitación: 1 (Programas Sociales), 3 (Franquicia Tributaria) o 6 (FPT).';

  const codSence = text(input, 'codSence');
  if (codSence === null) errors.codSence = 'Escriba el código SENCE del curso como texto.';
  else if (line === 1) {
    // RCE M6 §2.3: CodSence blank for line 1, also in rcetest (not -1).
    if (codSence !== '') errors.codSence = 'Para la línea 1 (Programas Sociales) el código SENCE debe quedar en blanco.';
  } else if (codSence === '-1') {
    // RCE M6 §4: "-1" disables the code checks and only works in rcetest.
    if (!isTest) errors.codSence = 'El código "-1" solo sirve en el ambiente de prueba. En producción escriba el código SENCE real de 10 dígitos.';
  } else if (!/^\d{10}$/.test(codSence)) {
    // RCE M6 §2.1 / Anexo 2 (204): CodSence is the 10-digit course code of the purchase order.
    errors.codSence = codSence === ''
      ? 'Escriba el código SENCE del curso: 10 dígitos, lo encuentra en la orden de compra.'
      : 'El código SENCE debe tener exactamente 10 dígitos, sin puntos ni espacios (está en la orden de compra).';
  }

  const codigoCurso = text(input, 'codigoCurso');
  // RCE M6 §2.1 / Anexo 2 (205): CodigoCurso Text/50, min 7 except line 6 (FPT); "-1" only in rcetest.
  const minCodigo = line === 6 ? 1 : 7;
  if (codigoCurso === null || codigoCurso === '') {
    errors.codigoCurso = 'Escriba el código de la acción de capacitación (ID de acción, Folio o RUS).';
  } else if (codigoCurso === '-1') {
    if (!isTest) errors.codigoCurso = 'El código "-1" solo sirve en el ambiente de prueba. En producción escriba el ID de acción real.';
  } else if (hasControlChars(codigoCurso)) {
    errors.codigoCurso = 'El código de la acción no puede tener saltos de línea ni caracteres especiales invisibles.';
  } else if (codigoCurso.length < minCodigo || codigoCurso.length > 50) {
    errors.codigoCurso = line === 6
      ? 'El código de la acción puede tener como máximo 50 caracteres.'
      : 'El código de la acción debe tener entre 7 y 50 caracteres (solo la línea 6 admite menos de 7).';
  }

  const hoursRaw = text(input, 'requiredHours');
  // Chilean users often type a decimal comma ("1,5"): accepted as 1.5.
  const hours = hoursRaw !== null && /^\d{1,4}([.,]\d{1,2})?$/.test(hoursRaw) ? Number(hoursRaw.replace(',', '.')) : null;
  if (hours === null || hours <= 0 || hours > REQUIRED_HOURS_MAX) {
    errors.requiredHours = `Escriba las horas totales del curso: un número mayor que 0 y hasta ${REQUIRED_HOURS_MAX} (puede usar decimales, por ejemplo 40,5).`;
  }

  // REFERENCE §5.3: the manual sets no limit; 3 h (180 min) is practice, so it is configurable.
  const limitRaw = text(input, 'sessionLimitMinutes');
  const limit = limitRaw === '' ? ctx.defaults.sessionLimitMinutes : limitRaw === null ? null : wholeNumber(limitRaw);
  if (limit === null || limit < LIMIT_MIN || limit > LIMIT_MAX) {
    errors.sessionLimitMinutes = `El tiempo máximo de una sesión debe ser un número entero de minutos entre ${LIMIT_MIN} y ${LIMIT_MAX} (lo habitual son 180, es decir 3 horas).`;
  } else if (limit > maxSessionLimitMinutes(ctx.ltikMaxAgeMinutes)) {
    // Longer, and a learner who keeps the panel open to the end would find it expired at the close.
    errors.sessionLimitMinutes = `En esta instalación el tiempo máximo de una sesión puede ser de hasta ${maxSessionLimitMinutes(ctx.ltikMaxAgeMinutes)} minutos: el panel del alumno dura ${ctx.ltikMaxAgeMinutes} minutos desde que entra y debe durar una hora más que la sesión SENCE. Para permitir sesiones más largas, el operador de Asistencia SENCE debe aumentar LTIK_MAX_AGE_MINUTES.`;
  }

  const warningRaw = text(input, 'warningMinutes');
  const warning = warningRaw === '' ? ctx.defaults.warningMinutes : warningRaw === null ? null : wholeNumber(warningRaw);
  if (warning === null || warning < WARNING_MIN || warning > WARNING_MAX) {
    // RCE M6 §3.3 recommends an alert 10 minutes before the end.
    errors.warningMinutes = `El aviso antes del límite debe ser un número entero de minutos entre ${WARNING_MIN} y ${WARNING_MAX} (SENCE recomienda 10).`;
  } else if (limit !== null && warning >= limit) {
    errors.warningMinutes = 'El aviso antes del límite debe ser menor que el tiempo máximo de la sesión.';
  }

  // RCE M6 §2.1: UrlRetoma/UrlError Text/100; our callback paths add up to 42 characters.
  if (ctx.publicUrl.length + CALLBACK_PATH_MAX_LENGTH > SENCE_URL_MAX_LENGTH) {
    errors.publicUrl = `La dirección pública de la herramienta (PUBLIC_URL, ${ctx.publicUrl.length} caracteres) es demasiado larga: SENCE acepta direcciones de retorno de hasta ${SENCE_URL_MAX_LENGTH} caracteres. Acórtela a ${SENCE_URL_MAX_LENGTH - CALLBACK_PATH_MAX_LENGTH} caracteres o menos.`;
  }

  if (Object.keys(errors).length > 0 || !otecId || !environment || !line || hours === null || limit === null || warning === null) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    settings: {
      otecId,
      lineaCapacitacion: line,
      codSence: line === 1 ? '' : (codSence ?? ''),
      codigoCurso: codigoCurso ?? '',
      requiredHours: hours,
      environment,
      sessionLimitMinutes: limit,
      warningMinutes: warning,
    },
  };
}

export interface OtecInput {
  name: string;
  rut: string;
  token: string;
}

/** RCE M6 §2.1 / SIC: Token Text/36, GUID shape, upper case. */
const TOKEN_GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

export function validateOtecInput(input: Record<string, unknown>): ValidationResult<OtecInput> {
  const errors: Record<string, string> = {};

  const name = text(input, 'name');
  if (!name) errors.name = 'Escriba el nombre de la OTEC.';
  else if (name.length > 100 || hasControlChars(name)) errors.name = 'El nombre de la OTEC debe tener como máximo 100 caracteres, en una sola línea.';

  const rutRaw = text(input, 'rut');
  // RCE M6 §2.1 / Anexo 2 (209): RutOtec xxxxxxxx-x, no dots, valid check digit.
  const rut = parseRun(rutRaw);
  if (!rut.ok) {
    errors.rut = rut.reason === 'check-digit'
      ? 'El dígito verificador del RUT de la OTEC no coincide. Revise el número después del guion.'
      : 'Escriba el RUT de la OTEC con guion y dígito verificador, por ejemplo 76123456-0.';
  }

  // RCE M6 §2.1 / Anexo 2 (303): Token Text/36, GUID from RTS, upper case (SIC).
  const tokenRaw = text(input, 'token');
  const token = (tokenRaw ?? '').toUpperCase();
  if (!token) errors.token = 'Pegue el token SENCE de la OTEC (lo obtiene en https://sistemas.sence.cl/rts).';
  else if (token.length !== 36 || !TOKEN_GUID.test(token)) {
    errors.token = `El token debe tener 36 caracteres con la forma XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX (letras A-F y números). El que pegó tiene ${token.length}; cópielo completo desde RTS.`;
  }

  if (Object.keys(errors).length > 0 || !name || !rut.ok) return { ok: false, errors };
  return { ok: true, value: { name, rut: rut.run, token } };
}
