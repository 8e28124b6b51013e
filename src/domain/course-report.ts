/**
 * The coordinator's course report: every member of the roster merged with the tool's own records
 * (learners who launched, sessions, per-learner actions and exempt marks), one row per learner with
 * a status a coordinator reads at a glance. Pure: no I/O, no clock (the caller passes `now`).
 */
import type { AttendanceSession, CourseSettings, Learner } from './types';
import type { RosterMember } from './roster';
import { isLearnerMember, isStaffMember } from './roster';
import type { LearnerEnrollment, SenceAction, ActionSource } from './enrollment';
import { effectiveAction } from './enrollment';
import { customParameterIsUsername, rosterRun, rosterRunFields, runFixText } from './roster-run';
import { hasAccessMark, totalAccreditedSeconds } from './attendance-rules';
import { describeSenceError, type SenceErrorDescription } from './sence-error-catalogue';
import { progressPercent } from './time-format';

export type LearnerStatus = 'al-dia' | 'sin-marca' | 'con-error' | 'sin-run' | 'exento' | 'sesion-abierta';

/** Statuses in the order the report lists and counts them (most urgent first). */
export const LEARNER_STATUSES: readonly LearnerStatus[] = Object.freeze(['con-error', 'sin-run', 'sesion-abierta', 'sin-marca', 'al-dia', 'exento'] as const);

/**
 * What each status is (issue #20): named for the fact it records, never for a judgement. An access
 * mark says SENCE accepted one start, not that the learner is "al día" with the hours. The keys
 * (`al-dia`, `sin-marca`…) stay as they were: they are the `estado` of saved links and CSS classes.
 */
export const STATUS_LABELS: Readonly<Record<LearnerStatus, string>> = Object.freeze({
  'al-dia': 'con marca de acceso',
  'sin-marca': 'sin marca de acceso',
  'con-error': 'último intento con error',
  'sin-run': 'sin RUN',
  exento: 'exento',
  'sesion-abierta': 'sesión abierta',
});

/** The report's legend: one line per status, what it means and what it does not. */
export const STATUS_DESCRIPTIONS: Readonly<Record<LearnerStatus, string>> = Object.freeze({
  'con-error': 'Su último intento de abrir o cerrar una sesión terminó con un error de SENCE (vea «Último error SENCE»). Se quita cuando SENCE acepta una sesión nueva.',
  'sin-run': 'La herramienta no conoce un RUN válido de este estudiante: no puede abrir sesiones en SENCE hasta que se corrija en el LMS.',
  'sesion-abierta': 'Tiene ahora una sesión SENCE abierta (o cerrándose). Su tiempo se suma al cerrarla.',
  'sin-marca': 'SENCE todavía no aceptó ninguna sesión de este estudiante: no tiene marca de acceso.',
  'al-dia': 'SENCE aceptó al menos una sesión de este estudiante (marca de acceso); no dice cuántas horas lleva: vea «Tiempo acreditado».',
  exento: 'Marcado como exento (no financiado por SENCE): no registra asistencia en SENCE.',
});

export function isLearnerStatus(value: unknown): value is LearnerStatus {
  return typeof value === 'string' && (LEARNER_STATUSES as readonly string[]).includes(value);
}

export interface ReportInput {
  /** The roster from the LMS; null when it is not available (only the tool's records are shown). */
  roster: RosterMember[] | null;
  /** Learners the tool has stored (by sub), from their launches. */
  learners: ReadonlyMap<string, Learner>;
  /** Every session of the course (any order). */
  sessions: readonly AttendanceSession[];
  enrollments: readonly LearnerEnrollment[];
  settings: CourseSettings | null;
}

export interface ReportRow {
  sub: string;
  name: string;
  email: string | null;
  run: string | null;
  /** What is wrong with the RUN and how to fix it, when there is none. */
  runFix: string | null;
  action: SenceAction | null;
  actionSource: ActionSource | null;
  exempt: boolean;
  accreditedSeconds: number;
  percent: number;
  accessMark: boolean;
  sessionCount: number;
  closedCount: number;
  lastSessionAt: Date | null;
  lastError: SenceErrorDescription | null;
  status: LearnerStatus;
  inRoster: boolean;
  launched: boolean;
  /** Newest first. */
  sessions: AttendanceSession[];
}

export interface CourseReport {
  rows: ReportRow[];
  counts: Record<LearnerStatus, number>;
  rosterAvailable: boolean;
}

function lastSessionTime(s: AttendanceSession): Date {
  return s.endedAt ?? s.openedAt ?? s.createdAt;
}

export function buildCourseReport(input: ReportInput): CourseReport {
  const sessionsBySub = new Map<string, AttendanceSession[]>();
  for (const s of input.sessions) sessionsBySub.set(s.learner.sub, [...(sessionsBySub.get(s.learner.sub) ?? []), s]);
  for (const list of sessionsBySub.values()) list.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const enrollmentBySub = new Map(input.enrollments.map((e) => [e.sub, e]));
  const rosterBySub = new Map((input.roster ?? []).map((m) => [m.userId, m]));
  // Issue #20: the roster's RUN is read the way the launch reads it, in the course's choice of field.
  const launchedInRoster = [...input.learners.values()].flatMap((learner) => {
    const member = rosterBySub.get(learner.sub);
    return member ? [{ learner, member }] : [];
  });
  const runFields = rosterRunFields(customParameterIsUsername(launchedInRoster));

  // Everyone who is a learner in the roster, plus anyone the tool has records of (sessions or marks).
  const subs: string[] = [];
  const seen = new Set<string>();
  const add = (sub: string): void => {
    if (!seen.has(sub)) {
      seen.add(sub);
      subs.push(sub);
    }
  };
  for (const m of input.roster ?? []) if (isLearnerMember(m) && m.active) add(m.userId);
  for (const sub of sessionsBySub.keys()) add(sub);
  for (const e of input.enrollments) {
    const member = rosterBySub.get(e.sub);
    if (!member || !isStaffMember(member)) add(e.sub);
  }

  const rows = subs.map((sub) => {
    const member = rosterBySub.get(sub) ?? null;
    const learner = input.learners.get(sub) ?? null;
    const sessions = sessionsBySub.get(sub) ?? [];
    const enrollment = enrollmentBySub.get(sub) ?? null;
    const fromRoster = member ? rosterRun(member, runFields) : null;
    const run = learner?.run ?? fromRoster?.run ?? sessions[0]?.sent.RunAlumno ?? null;
    const runFix = run ? null : runFixText({ launched: learner !== null, rosterAvailable: input.roster !== null, roster: fromRoster });
    const accredited = totalAccreditedSeconds(sessions);
    const latest = sessions[0] ?? null;
    const erroredSession = sessions.find((s) => s.lastErrorCodes.length > 0) ?? null;
    const latestFailed = latest !== null && latest.lastErrorCodes.length > 0 && latest.state !== 'closed';
    const action = effectiveAction(input.settings, enrollment);
    const exempt = enrollment?.exempt === true;
    const accessMark = hasAccessMark(sessions);
    const status: LearnerStatus = exempt
      ? 'exento'
      : !run
        ? 'sin-run'
        : latest && (latest.state === 'open' || latest.state === 'closing')
          ? 'sesion-abierta'
          : latestFailed
            ? 'con-error'
            : accessMark
              ? 'al-dia'
              : 'sin-marca';
    const row: ReportRow = {
      sub,
      name: member?.name ?? learner?.name ?? sub,
      email: member?.email ?? learner?.email ?? null,
      run,
      runFix,
      action: action?.action ?? null,
      actionSource: action?.source ?? null,
      exempt,
      accreditedSeconds: accredited,
      percent: progressPercent(accredited, input.settings?.requiredHours ?? null),
      accessMark,
      sessionCount: sessions.length,
      closedCount: sessions.filter((s) => s.state === 'closed').length,
      lastSessionAt: latest ? lastSessionTime(latest) : null,
      lastError: erroredSession ? describeSenceError(erroredSession.lastErrorCodes[0] ?? '') : null,
      status,
      inRoster: member !== null,
      launched: learner !== null,
      sessions,
    };
    return row;
  });
  rows.sort((a, b) => a.name.localeCompare(b.name, 'es'));
  const counts = Object.fromEntries(LEARNER_STATUSES.map((s) => [s, 0])) as Record<LearnerStatus, number>;
  for (const r of rows) counts[r.status] += 1;
  return { rows, counts, rosterAvailable: input.roster !== null };
}

/** Rows per page of the report (issue #19). */
export const REPORT_PAGE_SIZE = 100;

export type ReportSort = 'nombre' | 'estado' | 'avance' | 'accion' | 'ultima';
export const REPORT_SORTS: readonly ReportSort[] = ['nombre', 'estado', 'avance', 'accion', 'ultima'];

export interface ReportQuery {
  status: LearnerStatus | null;
  codigoCurso: string | null;
  search: string;
  sort: ReportSort;
  /** Page of REPORT_PAGE_SIZE rows, from 1 (`pagina`); past the last page, the last one. */
  page: number;
}

/** Parses the report's query string (unknown values fall back to "all"/"nombre"). */
export function parseReportQuery(q: Record<string, unknown>): ReportQuery {
  const one = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '');
  const status = one(q.estado);
  const sort = one(q.orden);
  const action = one(q.accion).trim();
  return {
    status: isLearnerStatus(status) ? status : null,
    codigoCurso: action !== '' ? action.slice(0, 60) : null,
    search: one(q.q).trim().slice(0, 100),
    sort: (REPORT_SORTS as readonly string[]).includes(sort) ? (sort as ReportSort) : 'nombre',
    page: /^\d{1,6}$/.test(one(q.pagina)) && Number(one(q.pagina)) >= 1 ? Number(one(q.pagina)) : 1,
  };
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Filter by status and action, search by name or RUN (with or without dots), then sort. */
export function filterReport(rows: readonly ReportRow[], query: ReportQuery): ReportRow[] {
  const needle = fold(query.search);
  const runNeedle = query.search.replace(/[.\s]/g, '').toUpperCase();
  const out = rows.filter((r) => {
    if (query.status && r.status !== query.status) return false;
    if (query.codigoCurso && r.action?.codigoCurso !== query.codigoCurso) return false;
    if (needle === '') return true;
    return fold(r.name).includes(needle) || (runNeedle !== '' && (r.run ?? '').toUpperCase().includes(runNeedle));
  });
  const byName = (a: ReportRow, b: ReportRow): number => a.name.localeCompare(b.name, 'es');
  const cmp: Record<ReportSort, (a: ReportRow, b: ReportRow) => number> = {
    nombre: byName,
    estado: (a, b) => LEARNER_STATUSES.indexOf(a.status) - LEARNER_STATUSES.indexOf(b.status) || byName(a, b),
    avance: (a, b) => b.accreditedSeconds - a.accreditedSeconds || byName(a, b),
    accion: (a, b) => (a.action?.codigoCurso ?? '').localeCompare(b.action?.codigoCurso ?? '') || byName(a, b),
    ultima: (a, b) => (b.lastSessionAt?.getTime() ?? 0) - (a.lastSessionAt?.getTime() ?? 0) || byName(a, b),
  };
  return out.sort(cmp[query.sort]);
}

export interface ReportPage {
  /** The rows of the page asked for (the last page when it was past the end). */
  rows: ReportRow[];
  page: number;
  /** At least 1 (an empty result is one empty page). */
  pageCount: number;
  /** Rows matching every filter (status included). */
  matching: number;
  /** Rows matching the search and action, any status: the "Todos" chip. */
  searchTotal: number;
  /** Per status, among the rows matching the search and action: the status chips. */
  searchCounts: Record<LearnerStatus, number>;
}

/**
 * The report's page (issue #19): filterReport over the whole roster, then REPORT_PAGE_SIZE rows of
 * it; the chips count what the search (and action) finds over the whole roster, whatever status
 * is chosen, so staff see how the matches divide before they pick one.
 */
export function pageReport(rows: readonly ReportRow[], query: ReportQuery): ReportPage {
  const searched = filterReport(rows, { ...query, status: null });
  const searchCounts = Object.fromEntries(LEARNER_STATUSES.map((s) => [s, 0])) as Record<LearnerStatus, number>;
  for (const r of searched) searchCounts[r.status] += 1;
  const matching = query.status ? searched.filter((r) => r.status === query.status) : searched;
  const pageCount = Math.max(1, Math.ceil(matching.length / REPORT_PAGE_SIZE));
  const page = Math.min(query.page, pageCount);
  return {
    rows: matching.slice((page - 1) * REPORT_PAGE_SIZE, page * REPORT_PAGE_SIZE),
    page,
    pageCount,
    matching: matching.length,
    searchTotal: searched.length,
    searchCounts,
  };
}
