/** Report rows as the pages, the print page and the exports show them (Spanish, Santiago times). */
import type { ReportRow } from '../domain/course-report';
import { STATUS_LABELS } from '../domain/course-report';
import { formatAccredited, formatSantiagoDateTime } from '../domain/time-format';
import type { SenceAction } from '../domain/enrollment';
import type { ToolLinks } from './staff-links';

export const LINE_LABELS: Record<number, string> = { 1: 'Programas Sociales (Becas Laborales)', 3: 'Franquicia Tributaria', 6: 'FPT' };

export function actionText(action: SenceAction | null): string {
  if (!action) return 'sin acción (falta configurar el curso)';
  return `${action.codigoCurso} · línea ${action.lineaCapacitacion}${action.codSence ? ` · CodSence ${action.codSence}` : ''}`;
}

export interface RowView {
  sub: string;
  name: string;
  run: string;
  runFix: string | null;
  actionText: string;
  codigoCurso: string;
  actionIsOwn: boolean;
  accreditedText: string;
  /** Compact for the table: "1 h 05 min". */
  accreditedShort: string;
  /**
   * The learner's own action in full (issue #20: a row names an action only when it is not the
   * course's, which the report says once above the table); null when the course's applies.
   */
  ownActionText: string | null;
  percent: number;
  accessMarkText: string;
  sessionsText: string;
  lastSessionText: string;
  lastErrorText: string | null;
  lastErrorHint: string | null;
  status: ReportRow['status'];
  statusLabel: string;
  learnerHref: string;
  inRoster: boolean;
  launched: boolean;
}

/** "1 h 05 min". */
export function shortDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')} min`;
}

export function learnerHref(links: ToolLinks, sub: string): string {
  return links.href(`/lti/staff/learners/${encodeURIComponent(sub)}`);
}

export function rowView(r: ReportRow, links: ToolLinks): RowView {
  return {
    sub: r.sub,
    name: r.name,
    run: r.run ?? 'sin RUN',
    runFix: r.runFix,
    actionText: r.exempt ? 'exento (no SENCE)' : actionText(r.action),
    codigoCurso: r.action?.codigoCurso ?? '',
    actionIsOwn: r.actionSource === 'learner',
    accreditedText: formatAccredited(r.accreditedSeconds),
    accreditedShort: shortDuration(r.accreditedSeconds),
    ownActionText: !r.exempt && r.actionSource === 'learner' ? actionText(r.action) : null,
    percent: r.percent,
    accessMarkText: r.accessMark ? 'Sí' : 'No',
    sessionsText: r.sessionCount === 0 ? 'ninguna' : `${r.closedCount} de ${r.sessionCount}`,
    lastSessionText: r.lastSessionAt ? formatSantiagoDateTime(r.lastSessionAt) : '—',
    lastErrorText: r.lastError ? `${r.lastError.code}: ${r.lastError.description}` : null,
    lastErrorHint: r.lastError?.staffHint ?? null,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status],
    learnerHref: learnerHref(links, r.sub),
    inRoster: r.inRoster,
    launched: r.launched,
  };
}
