/** Wall-clock helpers in SENCE's time zone (America/Santiago). */

export const SENCE_TIME_ZONE = 'America/Santiago';

const FORMAT = new Intl.DateTimeFormat('en-CA', {
  timeZone: SENCE_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function parts(date: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of FORMAT.formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** 'YYYY-MM-DD HH:MM:SS' (19 chars, no offset) as SENCE's FechaHora. */
export function senceFechaHora(date: Date): string {
  const p = parts(date);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** Calendar day 'YYYY-MM-DD' in Santiago. */
export function santiagoDate(date: Date): string {
  const p = parts(date);
  return `${p.year}-${p.month}-${p.day}`;
}

/** Santiago calendar day shifted by whole years (Feb 29 rolls to Mar 1 where needed). */
export function santiagoDatePlusYears(date: Date, years: number): string {
  const [y, m, d] = santiagoDate(date).split('-').map(Number) as [number, number, number];
  const shifted = new Date(Date.UTC(y + years, m - 1, d));
  return shifted.toISOString().slice(0, 10);
}
