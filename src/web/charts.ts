/**
 * Server-side bar charts (SVG, no script: the CSP is script-src 'self' and nothing comes from a
 * CDN). Each chart carries its data as a table too, the accessible alternative.
 */
import { LEARNER_STATUSES, STATUS_LABELS, type ReportRow } from '../domain/course-report';
import type { AttendanceSession } from '../domain/types';

export type TextAnchor = 'start' | 'middle' | 'end';

export interface Bar {
  label: string;
  /** The label drawn beside the bar ('' when bars are too many to label each; the table has them all). */
  axisLabel: string;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
  cssClass: string;
  /** Where the label and the value are drawn (computed here, so a test can tell they never overlap). */
  labelX: number;
  labelY: number;
  labelAnchor: TextAnchor;
  valueX: number;
  valueY: number;
  valueAnchor: TextAnchor;
}

export interface BarChart {
  id: string;
  title: string;
  description: string;
  valueHeader: string;
  width: number;
  height: number;
  /** The axis line the bars grow from. */
  axis: { x1: number; y1: number; x2: number; y2: number };
  bars: Bar[];
}

interface Datum {
  label: string;
  value: number;
  cssClass?: string;
  short?: string;
}

const WIDTH = 360;
const HEIGHT = 200;
const TOP = 26;
const BOTTOM = 40;

/** Vertical bars, labels under them (short labels only: a slot is WIDTH / bars wide). */
function layout(id: string, title: string, description: string, valueHeader: string, data: Datum[]): BarChart {
  const max = Math.max(1, ...data.map((d) => d.value));
  const PAD = 16; // room for the first and last axis labels
  const slot = (WIDTH - 2 * PAD) / Math.max(1, data.length);
  const barWidth = Math.max(4, Math.min(60, slot * 0.7));
  const plot = HEIGHT - TOP - BOTTOM;
  const baseline = HEIGHT - BOTTOM;
  return {
    id,
    title,
    description,
    valueHeader,
    width: WIDTH,
    height: HEIGHT,
    axis: { x1: 0, y1: baseline, x2: WIDTH, y2: baseline },
    bars: data.map((d, i) => {
      const h = Math.round((d.value / max) * plot);
      const every = data.length > 7 ? 3 : 1;
      const axisLabel = (data.length - 1 - i) % every === 0 ? (d.short ?? d.label) : '';
      const x = Math.round(PAD + i * slot + (slot - barWidth) / 2);
      const width = Math.round(barWidth);
      const centre = x + width / 2;
      return {
        label: d.label, axisLabel, value: d.value, x, y: baseline - h, width, height: h, cssClass: d.cssClass ?? 'bar',
        labelX: centre, labelY: baseline + 18, labelAnchor: 'middle', valueX: centre, valueY: baseline - h - 6, valueAnchor: 'middle',
      };
    }),
  };
}

const H_WIDTH = 400;
const H_LABELS = 192; // the labels' column (right-aligned): "último intento con error" fits at 13 px
const H_ROW = 28;
const H_PAD = 8;
const H_VALUE_ROOM = 44;

/**
 * Horizontal bars, one row each, the full label on the left (issue #20: six status names under six
 * vertical bars ran into each other, "abiertasin marca").
 */
function horizontalLayout(id: string, title: string, description: string, valueHeader: string, data: Datum[]): BarChart {
  const max = Math.max(1, ...data.map((d) => d.value));
  const start = H_LABELS + 6;
  const room = H_WIDTH - start - H_VALUE_ROOM;
  const height = 2 * H_PAD + data.length * H_ROW;
  return {
    id,
    title,
    description,
    valueHeader,
    width: H_WIDTH,
    height,
    axis: { x1: start, y1: H_PAD / 2, x2: start, y2: height - H_PAD / 2 },
    bars: data.map((d, i) => {
      const top = H_PAD + i * H_ROW;
      const length = Math.round((d.value / max) * room);
      const middle = top + H_ROW / 2;
      return {
        label: d.label, axisLabel: d.label, value: d.value, x: start, y: top + 5, width: length, height: H_ROW - 10, cssClass: d.cssClass ?? 'bar',
        labelX: H_LABELS, labelY: middle + 5, labelAnchor: 'end', valueX: start + length + 6, valueY: middle + 6, valueAnchor: 'start',
      };
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

/** Learners by status: horizontal bars, each labelled with the status's full name. */
export function statusChart(counts: Record<string, number>): BarChart {
  const data = LEARNER_STATUSES.map((s) => ({ label: STATUS_LABELS[s], value: counts[s] ?? 0, cssClass: `bar bar-${s}` }));
  return horizontalLayout('chart-status', 'Estados del curso', `Estudiantes por estado: ${data.map((d) => `${d.label}: ${d.value}`).join('; ')}.`, 'Estudiantes', data);
}
