/**
 * The exports' tables (issue #9, item 4), independent of the file format: the report (one row per
 * learner) and the session log (one row per SENCE session), with the columns SENCE's own
 * declarations use (RUN, name, action CodigoCurso, CodSence, start and close, duration,
 * IdSesionSence). Cells are typed; writers (CSV, XLSX) format them. Pure.
 */
import type { ReportRow } from './course-report';
import { STATUS_LABELS } from './course-report';
import type { AttendanceSession } from './types';
import { formatClock } from './time-format';

export type Cell =
  | { kind: 'text'; value: string }
  | { kind: 'number'; value: number; decimals: number }
  | { kind: 'datetime'; value: Date | null };

export interface Table {
  name: string;
  header: string[];
  rows: Cell[][];
}

const text = (value: string | null | undefined): Cell => ({ kind: 'text', value: value ?? '' });
const num = (value: number, decimals = 0): Cell => ({ kind: 'number', value, decimals });
const when = (value: Date | null): Cell => ({ kind: 'datetime', value });

/**
 * The one spreadsheet-formula rule of every export (OWASP "CSV injection"; issue #19): text whose
 * first visible character — after any spaces, non-breaking or ideographic spaces, tabs or line
 * breaks — is `=`, `+`, `-`, `@` or their full-width forms `＝ ＋ － ＠` (spreadsheets in an East
 * Asian locale read these as formula starts too), or that starts with a tab, CR or LF, gets a
 * leading apostrophe. Used by the report and sessions exports (CSV and XLSX, src/web/exports) and
 * the attendance CSV (src/web/csv.ts). XLSX cells are written as strings, never formulas, but get
 * the same rule: a cell copied, re-typed or saved as CSV would otherwise become one.
 */
const FORMULA_START = /^[\s\u00a0\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r\n]/;

export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

const SESSION_STATE: Record<AttendanceSession['state'], string> = {
  starting: 'iniciando',
  open: 'abierta',
  closing: 'cerrando',
  closed: 'cerrada',
  'start-failed': 'inicio con error',
  abandoned: 'inicio abandonado',
  expired: 'vencida',
  'ended-by-sence': 'terminada por SENCE',
};

export function reportTable(rows: readonly ReportRow[]): Table {
  return {
    name: 'Reporte',
    header: ['RUN', 'Nombre', 'CodigoCurso', 'CodSence', 'LineaCapacitacion', 'Estado', 'Horas acreditadas', 'Tiempo acreditado (h:mm:ss)', '% horas requeridas', 'Marca de acceso', 'Sesiones', 'Sesiones cerradas', 'Última sesión (hora de Santiago)', 'Último error SENCE', 'Correo'],
    rows: rows.map((r) => [
      text(r.run ?? 'sin RUN'),
      text(r.name),
      text(r.exempt ? 'exento' : (r.action?.codigoCurso ?? '')),
      text(r.exempt ? '' : (r.action?.codSence ?? '')),
      text(r.exempt || !r.action ? '' : String(r.action.lineaCapacitacion)),
      text(STATUS_LABELS[r.status]),
      num(Math.round((r.accreditedSeconds / 3600) * 100) / 100, 2),
      text(formatClock(r.accreditedSeconds)),
      num(r.percent),
      text(r.accessMark ? 'Sí' : 'No'),
      num(r.sessionCount),
      num(r.closedCount),
      when(r.lastSessionAt),
      text(r.lastError ? `${r.lastError.code}: ${r.lastError.description}` : ''),
      text(r.email),
    ]),
  };
}

export function sessionsTable(rows: readonly ReportRow[]): Table {
  const sessions = rows.flatMap((r) => r.sessions.map((s) => ({ r, s })));
  sessions.sort((a, b) => b.s.createdAt.getTime() - a.s.createdAt.getTime());
  return {
    name: 'Sesiones',
    header: ['RUN', 'Nombre', 'CodigoCurso', 'CodSence', 'LineaCapacitacion', 'Inicio (hora de Santiago)', 'Cierre (hora de Santiago)', 'Duración (h:mm:ss)', 'Duración (minutos)', 'IdSesionSence', 'IdSesionAlumno', 'Estado', 'Errores SENCE', 'Ambiente'],
    rows: sessions.map(({ r, s }) => [
      text(s.sent.RunAlumno),
      text(r.name),
      text(s.sent.CodigoCurso),
      text(s.sent.CodSence),
      text(s.sent.LineaCapacitacion),
      when(s.openedAt),
      when(s.openedAt ? s.endedAt : null),
      text(formatClock(s.accreditedSeconds)),
      num(Math.floor(s.accreditedSeconds / 60)),
      text(s.idSesionSence),
      text(s.idSesionAlumno),
      text(SESSION_STATE[s.state]),
      text(s.lastErrorCodes.join(', ')),
      text(s.environment === 'production' ? 'producción' : 'pruebas'),
    ]),
  };
}
