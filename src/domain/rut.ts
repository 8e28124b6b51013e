/**
 * Chilean RUN/RUT: parsing, normalisation (`12345678-5`) and the mod-11 check digit.
 * SENCE rejects a malformed RunAlumno with 207 and a malformed RutOtec with 209, so both are
 * checked here before any form is posted.
 */
import { AppError } from '../errors';

export type RunProblem = 'missing' | 'placeholder' | 'format' | 'check-digit';

export type RunParseResult = { ok: true; run: string } | { ok: false; reason: RunProblem };

/** Mod-11 check digit of the numeric body: '0'–'9', 'K' for 10, '0' for 11. */
export function computeCheckDigit(body: string): string {
  if (!/^\d+$/.test(body)) {
    throw new AppError('run-invalid', 400, 'El RUN debe tener solo números antes del guion.', {
      staffHint: 'computeCheckDigit recibe solo el cuerpo numérico del RUN, sin puntos ni dígito verificador.',
    });
  }
  let sum = 0;
  let factor = 2;
  for (let i = body.length - 1; i >= 0; i -= 1) {
    sum += Number(body[i]) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const value = 11 - (sum % 11);
  if (value === 11) return '0';
  if (value === 10) return 'K';
  return String(value);
}

/** Digits, optional hyphen, check digit. */
const PLAIN = /^(\d+)-?([\dK])$/;
/** Same with thousands dots in their right places: 12.345.678-5, 1.234.567-4, 123.456-0. */
const DOTTED = /^(?:(\d{1,2})\.)?(\d{3})\.(\d{3})-?([\dK])$/;
/** 6–8 digits, no leading zero (RUNs below 100.000 are not learners'). */
const BODY = /^[1-9]\d{5,7}$/;

/**
 * Parses a RUN as typed or as sent by an LMS and normalises it to `12345678-5`
 * (no dots, hyphen, upper-case K). Bodies must have 6–8 digits.
 */
export function parseRun(input: string | null | undefined): RunParseResult {
  if (input === null || input === undefined) return { ok: false, reason: 'missing' };
  const value = input.trim().toUpperCase();
  if (value === '') return { ok: false, reason: 'missing' };
  // An unsubstituted LMS variable such as "$User.username" or "$Person.sourcedId".
  if (value.startsWith('$')) return { ok: false, reason: 'placeholder' };

  let body: string;
  let dv: string;
  const dotted = DOTTED.exec(value);
  const plain = PLAIN.exec(value);
  if (dotted) {
    body = `${dotted[1] ?? ''}${dotted[2]}${dotted[3]}`;
    dv = dotted[4] ?? '';
  } else if (plain) {
    body = plain[1] ?? '';
    dv = plain[2] ?? '';
  } else {
    return { ok: false, reason: 'format' };
  }
  // RCE M6 §2.1: RunAlumno/RutOtec Text/10, "sin puntos, con guion y dígito verificador".
  const run = `${body}-${dv}`;
  if (!BODY.test(body) || run.length > 10) return { ok: false, reason: 'format' };
  // RCE M6 Anexo 2 (207/209): the check digit must match mod 11.
  if (computeCheckDigit(body) !== dv) return { ok: false, reason: 'check-digit' };
  return { ok: true, run };
}

export function isValidRun(input: string | null | undefined): boolean {
  return parseRun(input).ok;
}

/** A Spanish sentence for the learner explaining what is wrong with the RUN and what to do. */
export function runReasonText(reason: RunProblem): string {
  switch (reason) {
    case 'missing':
      return 'La plataforma del curso no nos envió tu RUN. Pide a tu OTEC o a tu relator que lo registre en tu perfil y vuelve a entrar.';
    case 'placeholder':
      return 'La plataforma del curso no nos envió tu RUN, sino un texto de configuración. Avísale a tu OTEC o a tu relator para que lo corrija.';
    case 'format':
      return 'El RUN de tu perfil no tiene un formato válido. Debe escribirse sin puntos y con guion, por ejemplo 12345678-5. Pide a tu OTEC que lo corrija.';
    case 'check-digit':
      return 'El dígito verificador del RUN de tu perfil no coincide (el número después del guion). Revisa que sea tu RUN y pide a tu OTEC que lo corrija.';
  }
}
