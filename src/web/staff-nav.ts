/**
 * Which section of the staff navigation a page belongs to (issue #20: the navigation shows where
 * you are). Set on res.locals for every /lti request, so views/partials/staff-nav.ejs marks it with
 * aria-current="page" whatever view includes the partial.
 */
import type { NextFunction, Request, Response } from 'express';

export type StaffSection = 'home' | 'report' | 'actions' | 'settings' | 'audit';

/** The section of a path under /lti (as a router mounted at /lti sees it), or null. */
export function staffSection(path: string): StaffSection | null {
  if (path === '/' || path === '') return 'home';
  if (path === '/staff/report' || path.startsWith('/staff/report/') || path.startsWith('/staff/learners/')) return 'report';
  if (path === '/staff/actions' || path.startsWith('/staff/actions/')) return 'actions';
  if (path === '/staff/audit') return 'audit';
  if (path === '/staff' || path === '/staff/' || path === '/staff/settings' || path.startsWith('/staff/otecs')) return 'settings';
  return null;
}

export function exposeStaffSection(req: Request, res: Response, next: NextFunction): void {
  res.locals.navSection = staffSection(req.path);
  next();
}
