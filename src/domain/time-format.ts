/**
 * How times are shown to learners, with the wording of the guides they know
 * ("TIEMPO ACREDITADO EN SENCE: …", a clock like "0:00:02") but real plurals (issue #20 §9), and
 * dates in Chilean time.
 */

function wholeSeconds(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Accredited time in words, exact to the second with real plurals: "1 hora y 5 minutos",
 * "56 segundos", "2 horas, 1 minuto y 3 segundos"; parts that are zero are left out, and no time at
 * all is "0 minutos" (issue #20 §9). Exact on purpose: SENCE accredits whole seconds, and a session's
 * "sumó …" must read as exactly what the total moved (rounding each to minutes would make 65 s and
 * 56 s read "1 minuto" and "0 minutos" while the total reads "2 minutos").
 */
export function formatAccredited(seconds: number): string {
  const total = wholeSeconds(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(plural(hours, 'hora', 'horas'));
  if (minutes > 0) parts.push(plural(minutes, 'minuto', 'minutos'));
  if (secs > 0) parts.push(plural(secs, 'segundo', 'segundos'));
  if (parts.length === 0) return '0 minutos';
  if (parts.length === 1) return parts[0]!;
  return `${parts.slice(0, -1).join(', ')} y ${parts[parts.length - 1]!}`;
}

/** Whole percent (floored) of the required hours already accredited; 0–100; 0 when no hours are set (staff pages). */
export function progressPercent(accreditedSeconds: number, requiredHours: number | null): number {
  if (requiredHours === null || !Number.isFinite(requiredHours) || requiredHours <= 0) return 0;
  const requiredSeconds = Math.round(requiredHours * 3600);
  if (requiredSeconds <= 0) return 0;
  const percent = Math.floor((wholeSeconds(accreditedSeconds) * 100) / requiredSeconds);
  return Math.min(100, percent);
}

/**
 * The learner's progress figure (issue #20 §9): floored to one decimal under 10 % (so 3 minutes of
 * 20 hours reads 0,2 % instead of a stuck 0 %), to a whole percent from 10 % on; 0–100, never more
 * than earned (9.95 % is 9,9 %, 100 % only when every required second is accredited).
 */
export function learnerProgress(accreditedSeconds: number, requiredHours: number | null): number {
  if (requiredHours === null || !Number.isFinite(requiredHours) || requiredHours <= 0) return 0;
  const requiredSeconds = Math.round(requiredHours * 3600);
  if (requiredSeconds <= 0) return 0;
  const tenths = Math.floor((wholeSeconds(accreditedSeconds) * 1000) / requiredSeconds);
  if (tenths < 100) return tenths / 10;
  return Math.min(100, Math.floor(tenths / 10));
}

/** Between the figure and "%": a narrow no-break space (U+202F), the one used wherever a learner reads a percentage. */
export const PERCENT_SPACE = '\u202f';

/** "0,2 %", "9,9 %", "10 %" (Chilean: decimal comma, narrow no-break space before %). */
export function formatPercent(value: number): string {
  const v = Number.isFinite(value) && value > 0 ? value : 0;
  const text = v === 0 ? '0' : v < 10 ? v.toFixed(1).replace('.', ',') : String(Math.floor(v));
  return `${text}${PERCENT_SPACE}%`;
}

/** The text beside the learner's progress bar; time that has not reached a tenth yet is "menos de 0,1 %". */
export function learnerProgressText(accreditedSeconds: number, requiredHours: number | null): string {
  const value = learnerProgress(accreditedSeconds, requiredHours);
  if (value === 0 && wholeSeconds(accreditedSeconds) > 0 && requiredHours !== null && requiredHours > 0) {
    return `menos de ${formatPercent(0.1)}`;
  }
  return formatPercent(value);
}

/** "H:MM:SS" (hours not padded, may exceed 9); negative values show as 0:00:00. */
export function formatClock(seconds: number): string {
  const total = wholeSeconds(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  return `${hours}:${String(minutes).padStart(2, '0')}:${String(secs).padStart(2, '0')}`;
}

const SANTIAGO = new Intl.DateTimeFormat('es-CL', {
  timeZone: 'America/Santiago',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "22-11-2026 14:05" in America/Santiago (daylight saving handled by Intl). */
export function formatSantiagoDateTime(date: Date): string {
  const parts: Record<string, string> = {};
  for (const part of SANTIAGO.formatToParts(date)) parts[part.type] = part.value;
  return `${parts.day}-${parts.month}-${parts.year} ${parts.hour}:${parts.minute}`;
}

const SANTIAGO_TIME = new Intl.DateTimeFormat('es-CL', { timeZone: 'America/Santiago', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** "14:05" in America/Santiago (the hour a learner reads beside a pending trip to SENCE). */
export function formatSantiagoTime(date: Date): string {
  const parts: Record<string, string> = {};
  for (const part of SANTIAGO_TIME.formatToParts(date)) parts[part.type] = part.value;
  return `${parts.hour}:${parts.minute}`;
}
