/**
 * The daily e-mail digest of staff-fixable SENCE errors, in Spanish (plain text). Pure.
 */
import type { AttendanceSession } from './types';
import { STAFF_ALERT_CODES, openStaffAlerts, type StaffAlert } from './staff-alerts';
import { describeSenceError } from './sence-error-catalogue';
import { formatSantiagoDateTime } from './time-format';

export interface DigestContent {
  /** Open alerts now. */
  open: StaffAlert[];
  /** Staff-fixable errors that happened since the last delivered digest and are already resolved. */
  resolved: Array<{ code: string; sub: string; at: Date }>;
}

/** What a digest for this course would say; empty when there is nothing to tell. */
export function digestContent(sessions: readonly AttendanceSession[], since: Date | null): DigestContent {
  const open = openStaffAlerts(sessions);
  const openKeys = new Set(open.flatMap((a) => a.subs.map((s) => `${a.code}\u0000${s}`)));
  const resolved: DigestContent['resolved'] = [];
  for (const s of sessions) {
    const at = s.endedAt ?? s.createdAt;
    if (since && at <= since) continue;
    for (const code of s.lastErrorCodes.filter((c) => STAFF_ALERT_CODES.includes(c))) {
      if (!openKeys.has(`${code}\u0000${s.learner.sub}`)) resolved.push({ code, sub: s.learner.sub, at });
    }
  }
  return { open, resolved };
}

export function isEmptyDigest(c: DigestContent): boolean {
  return c.open.length === 0 && c.resolved.length === 0;
}

export function digestMessage(c: DigestContent, args: { courseTitle: string | null; names: (sub: string) => string; now: Date }): { subject: string; text: string } {
  const course = args.courseTitle ?? 'su curso';
  const affected = new Set(c.open.flatMap((a) => a.subs)).size;
  const subject = c.open.length
    ? `Asistencia SENCE: ${c.open.length} error(es) por resolver en «${course}» (${affected} estudiante(s))`
    : `Asistencia SENCE: errores ya resueltos en «${course}»`;
  const lines: string[] = [
    `Resumen diario de Asistencia SENCE — ${course}`,
    `Generado el ${formatSantiagoDateTime(args.now)} (hora de Santiago).`,
    '',
  ];
  if (c.open.length) {
    lines.push('Errores de SENCE que solo el equipo del curso puede corregir:', '');
    for (const a of c.open) {
      lines.push(`• Error ${a.code}: ${a.description}`);
      lines.push(`  Qué hacer: ${a.staffHint}`);
      lines.push(`  Estudiantes afectados (${a.subs.length}): ${a.subs.map(args.names).join(', ')}`);
      lines.push(`  Última vez: ${formatSantiagoDateTime(a.lastAt)}`, '');
    }
  }
  if (c.resolved.length) {
    lines.push('Errores ocurridos desde el último resumen que ya se resolvieron:', '');
    for (const r of c.resolved) lines.push(`• Error ${r.code} (${describeSenceError(r.code).description}) — ${args.names(r.sub)}, ${formatSantiagoDateTime(r.at)}`);
    lines.push('');
  }
  lines.push('Para ver el detalle, entre a la herramienta Asistencia SENCE desde el curso en el LMS con su rol docente y abra «Reporte del curso».');
  lines.push('Este correo se envía una vez al día mientras haya errores por resolver.');
  return { subject, text: lines.join('\n') };
}
