/**
 * Server-side bar charts (SVG, no script: the CSP is script-src 'self' and nothing comes from a
 * CDN). Each chart carries its data as a table too, the accessible alternative.
 */
import { LEARNER_STATUSES, STATUS_LABELS, type ReportRow } from '../domain/course-report';
import type { AttendanceSession } from '../domain/types';

export interface Bar {
  label: string;
  /** The label drawn under the bar ('' when bars are too many to label each; the table has them all). */
  axisLabel: string;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
  cssClass: string;
}

export interface BarChart {
  id: string;
  title: string;
  description: string;
  valueHeader: string;
  width: number;
  height: number;
  baseline: number;
  bars: Bar[];
}

const WIDTH = 360;
const HEIGHT = 200;
const TOP = 26;
const BOTTOM = 40;

function layout(id: string, title: string, description: string, valueHeader: string, data: Array<{ label: string; value: number; cssClass?: string; short?: string }>): BarChart {
  const max = Math.max(1, ...data.map((d) => d.value));
  const PAD = 16; // room for the first and last axis labels
  const slot = (WIDTH - 2 * PAD) / Math.max(1, data.length);
  const barWidth = Math.max(4, Math.min(60, slot * 0.7));
  const plot = HEIGHT - TOP - BOTTOM;
  return {
    id,
    title,
    description,
    valueHeader,
    width: WIDTH,
    height: HEIGHT,
    baseline: HEIGHT - BOTTOM,
    bars: data.map((d, i) => {
      const h = Math.round((d.value / max) * plot);
      const every = data.length > 7 ? 3 : 1;
      const axisLabel = (data.length - 1 - i) % every === 0 ? (d.short ?? d.label) : '';
      return { label: d.label, axisLabel, value: d.value, x: Math.round(PAD + i * slot + (slot - barWidth) / 2), y: HEIGHT - BOTTOM - h, width: Math.round(barWidth), height: h, cssClass: d.cssClass ?? 'bar' };
    }),
  };
}

/** Learners (not exempt) by percentage of required hours, in five bands. */
export function percentChart(rows: readonly ReportRow[]): BarChart {
  const bands = [
    { label: '0–24 %', test: (p: number) => p < 25 },
    { label: '25–49 %', test: (p: number) => p >= 25 && p < 50 },
    { label: '50–74 %', test: (p: number) => p >= 50 && p < 75 },
    { label: '75–99 %', test: (p: number) => p >= 75 && p < 100 },
    { label: '100 %', test: (p: number) => p >= 100 },
  ];
  const counted = rows.filter((r) => !r.exempt);
  const data = bands.map((b) => ({ label: b.label, value: counted.filter((r) => b.test(r.percent)).length }));
  return layout('chart-percent', 'Distribución del avance', `Estudiantes (sin exentos) según el porcentaje de horas requeridas acreditado: ${data.map((d) => `${d.label}: ${d.value}`).join('; ')}.`, 'Estudiantes', data);
}

const DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Santiago', year: 'numeric', month: '2-digit', day: '2-digit' });

/** "2026-11-30" in Santiago. */
export function santiagoDay(d: Date): string {
  return DAY.format(d);
}

/** Sessions started per day (Santiago) over the last `days` days, today included. */
export function sessionsPerDayChart(sessions: readonly AttendanceSession[], now: Date, days = 14): BarChart {
  const keys: string[] = [];
  for (let i = days - 1; i >= 0; i -= 1) keys.push(santiagoDay(new Date(now.getTime() - i * 86_400_000)));
  const unique = [...new Set(keys)];
  const counts = new Map(unique.map((k) => [k, 0]));
  for (const s of sessions) {
    const k = santiagoDay(s.createdAt);
    if (counts.has(k)) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const data = unique.map((k) => ({ label: `${k.slice(8, 10)}-${k.slice(5, 7)}`, value: counts.get(k) ?? 0 }));
  const total = data.reduce((a, d) => a + d.value, 0);
  return layout('chart-days', 'Sesiones por día', `Sesiones SENCE iniciadas por día en los últimos ${unique.length} días (hora de Santiago): ${total} en total.`, 'Sesiones', data);
}

/** Learners by status. */
export function statusChart(counts: Record<string, number>): BarChart {
  const short: Record<string, string> = { 'con-error': 'error', 'sin-run': 'sin RUN', 'sesion-abierta': 'abierta', 'sin-marca': 'sin marca', 'al-dia': 'al día', exento: 'exento' };
  const data = LEARNER_STATUSES.map((s) => ({ label: STATUS_LABELS[s], short: short[s], value: counts[s] ?? 0, cssClass: `bar bar-${s}` }));
  return layout('chart-status', 'Estados del curso', `Estudiantes por estado: ${data.map((d) => `${d.label}: ${d.value}`).join('; ')}.`, 'Estudiantes', data);
}
