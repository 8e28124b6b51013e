/**
 * What every coordinator page needs, gathered once per request: who is here, the course and its
 * settings, the roster (cached NRPS) and the course report built from the tool's records.
 */
import type { Response } from 'express';
import type { IdToken } from 'ltijs';
import type { Stores } from '../store/ports';
import type { Course, Learner } from '../domain/types';
import type { LaunchIdentity } from '../lti/identity';
import type { RosterService, RosterView } from '../application/roster-service';
import { buildCourseReport, type CourseReport } from '../domain/course-report';
import type { LearnerEnrollment } from '../domain/enrollment';
import type { Logger } from './logger';
import { launchIdentity, ltikOf } from './launch-context';
import { toolLinks, type ToolLinks } from './staff-links';

export interface CoordinatorDeps {
  stores: Stores;
  roster: RosterService;
  logger: Logger;
  now: () => Date;
}

export interface CoordinatorContext {
  identity: LaunchIdentity;
  links: ToolLinks;
  course: Course | null;
  courseTitle: string | null;
  roster: RosterView;
  report: CourseReport;
  enrollments: LearnerEnrollment[];
}

export function membershipsUrlOf(res: Response): string | null {
  const token = (res.locals as { token?: IdToken }).token;
  const url = token?.platformContext?.namesRoles?.context_memberships_url;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? url : null;
}

export async function loadCoordinatorContext(deps: CoordinatorDeps, res: Response, opts: { refresh?: boolean } = {}): Promise<CoordinatorContext> {
  const identity = launchIdentity(res);
  const { stores } = deps;
  const [course, roster, sessions, enrollments] = await Promise.all([
    stores.courses.get(identity.course),
    deps.roster.roster(identity.course, { issuer: identity.course.issuer, clientId: identity.course.clientId, membershipsUrl: membershipsUrlOf(res) }, opts),
    stores.attendance.listCourseSessions(identity.course),
    stores.enrollments.list(identity.course),
  ]);
  if (roster.failure) {
    deps.logger.log('warn', 'course roster unavailable (NRPS)', {
      code: `roster-${roster.failure.kind}`,
      status: roster.failure.status,
      detail: roster.failure.detail,
      issuer: identity.course.issuer,
      contextId: identity.course.contextId,
      cachedFrom: roster.fetchedAt?.toISOString() ?? null,
    });
  }
  const subs = new Set<string>([...(roster.members ?? []).map((m) => m.userId), ...sessions.map((s) => s.learner.sub), ...enrollments.map((e) => e.sub)]);
  const learners: Map<string, Learner> = await stores.learners.getMany(identity.course, [...subs]);
  const report = buildCourseReport({ roster: roster.members, learners, sessions, enrollments, settings: course?.settings ?? null });
  return {
    identity,
    links: toolLinks(ltikOf(res)),
    course,
    courseTitle: course?.title ?? identity.courseTitle,
    roster,
    report,
    enrollments,
  };
}
