/**
 * How times are shown to learners, with the wording of the guides they know:
 * "TIEMPO ACREDITADO EN SENCE: X hora(s) y Y minuto(s)", a clock like "0:00:02", and dates in
 * Chilean time.
 */

function wholeSeconds(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
}

/** "X hora(s) y Y minuto(s)"; minutes are floored (59 s count as 0 minutes). */
export function formatAccredited(seconds: number): string {
  const total = wholeSeconds(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  return `${hours} hora(s) y ${minutes} minuto(s)`;
}

/** Whole percent (floored) of the required hours already accredited; 0–100; 0 when no hours are set. */
export function progressPercent(accreditedSeconds: number, requiredHours: number | null): number {
  if (requiredHours === null || !Number.isFinite(requiredHours) || requiredHours <= 0) return 0;
  const requiredSeconds = Math.round(requiredHours * 3600);
  if (requiredSeconds <= 0) return 0;
  const percent = Math.floor((wholeSeconds(accreditedSeconds) * 100) / requiredSeconds);
  return Math.min(100, percent);
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
