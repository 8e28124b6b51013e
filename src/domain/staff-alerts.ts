/**
 * SENCE errors that only staff can fix (wrong codes 204–206, OTEC token 211/212/303, RUN not on the
 * action's roster 208, course dates 309/310). An alert stays open for a learner until a later
 * session of theirs is accepted by SENCE. Pure.
 */
import type { AttendanceSession } from './types';
import { describeSenceError } from './sence-error-catalogue';

export const STAFF_ALERT_CODES: readonly string[] = Object.freeze(['204', '205', '206', '208', '211', '212', '303', '309', '310']);

export interface StaffAlert {
  code: string;
  description: string;
  staffHint: string;
  /** LMS user ids affected. */
  subs: string[];
  /** When the newest occurrence happened. */
  lastAt: Date;
  firstAt: Date;
}

/** Open alerts of a course from its sessions (any order), most recent first. */
export function openStaffAlerts(sessions: readonly AttendanceSession[]): StaffAlert[] {
  const bySub = new Map<string, AttendanceSession[]>();
  for (const s of sessions) bySub.set(s.learner.sub, [...(bySub.get(s.learner.sub) ?? []), s]);
  const byCode = new Map<string, StaffAlert>();
  for (const [sub, list] of bySub) {
    list.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    // The newest session that says something: accepted by SENCE (resolved) or failed with codes.
    const decisive = list.find((s) => s.openedAt !== null || s.lastErrorCodes.length > 0);
    if (!decisive || decisive.lastErrorCodes.length === 0) continue;
    if (decisive.openedAt !== null && decisive.state === 'closed') continue;
    const at = decisive.endedAt ?? decisive.createdAt;
    for (const code of decisive.lastErrorCodes.filter((c) => STAFF_ALERT_CODES.includes(c))) {
      const d = describeSenceError(code);
      const alert = byCode.get(code) ?? { code, description: d.description, staffHint: d.staffHint, subs: [], lastAt: at, firstAt: at };
      if (!alert.subs.includes(sub)) alert.subs.push(sub);
      if (at > alert.lastAt) alert.lastAt = at;
      if (at < alert.firstAt) alert.firstAt = at;
      byCode.set(code, alert);
    }
  }
  return [...byCode.values()].sort((a, b) => b.lastAt.getTime() - a.lastAt.getTime());
}
