/**
 * Minimal Chilean RUT/RUN helpers for the SENCE emulator. Deliberately self-contained: the emulator
 * must not depend on the application's own RUT code (it is the "other side" the app is tested against).
 */

/** Mod-11 check digit ('0'-'9' or 'K') of the numeric part of a RUT/RUN. */
export function rutCheckDigit(body: string | number): string {
  const digits = String(body);
  let sum = 0;
  let factor = 2;
  for (let i = digits.length - 1; i >= 0; i--) {
    sum += Number(digits.charAt(i)) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const rest = 11 - (sum % 11);
  if (rest === 11) return '0';
  if (rest === 10) return 'K';
  return String(rest);
}

/**
 * Strict wire format used by SENCE for RutOtec / RunAlumno: no dots, hyphen, check digit
 * ("xxxxxxxx-x", at most 10 characters), and a correct mod-11 check digit.
 * A lower-case 'k' is accepted (the manual does not specify its case).
 */
export function isWireRut(value: string): boolean {
  const m = /^([1-9]\d{0,7})-([0-9kK])$/.exec(value);
  if (!m || m[1] === undefined || m[2] === undefined) return false;
  return rutCheckDigit(m[1]) === m[2].toUpperCase();
}

/** Canonical form for comparisons: no dots/spaces, upper-case K. Does not validate. */
export function canonicalRut(value: string): string {
  return value.replace(/[.\s]/g, '').toUpperCase();
}

/**
 * Lenient parser for what a person types on the ClaveÚnica stand-in ("12.345.678-5", "12345678-5").
 * Returns the canonical RUN or null when it is not a valid RUN.
 */
export function parseTypedRun(value: string): string | null {
  const canonical = canonicalRut(value);
  return isWireRut(canonical) ? canonical : null;
}
