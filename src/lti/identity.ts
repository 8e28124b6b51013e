/**
 * From the signed launch (what ltijs kept of the id_token) to who is here: the LMS user, the course,
 * whether they are staff, and their RUN. Pure. REFERENCE §4.3: the RUN comes from the custom
 * parameter `rut`, then `lis.person_sourcedid`; a value still starting with `$` means the LMS admin
 * did not configure the substitution. Roles come only from the signed launch.
 */
import type { IdToken } from 'ltijs';
import type { CourseKey, LearnerKey, RunSource } from '../domain/types';
import { parseRun } from '../domain/rut';

/** LIS role URIs that make someone course staff (IMS LTI 1.3 Core Appendix A.2). */
const STAFF_ROLES = [
  'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  'http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator',
  'http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper',
  'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
  'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator',
  'http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator',
  'http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin',
];

/** LMS administrators (system or institution Administrator; Moodle sends both for site admins). */
const ADMIN_ROLES = [
  'http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator',
  'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator',
];

export function isAdminRole(roles: readonly string[]): boolean {
  return roles.some((r) => ADMIN_ROLES.includes(r));
}

export interface RunCandidate {
  source: Exclude<RunSource, 'typed'>;
  /** Where the value came from, in the LMS admin's words. */
  setting: string;
  raw: string | null;
  problem: 'missing' | 'placeholder' | 'format' | 'check-digit' | null;
}

export interface LaunchIdentity {
  learner: LearnerKey;
  course: CourseKey;
  courseTitle: string | null;
  name: string | null;
  email: string | null;
  isStaff: boolean;
  /** An administrator of the LMS platform itself (manages the platform's OTECs). */
  isAdmin: boolean;
  roles: string[];
  run: string | null;
  runSource: Exclude<RunSource, 'typed'> | null;
  /** Every place looked at, in order, with what was wrong; shown to staff when no RUN is valid. */
  runCandidates: RunCandidate[];
  platformName: string | null;
}

export function isStaffRole(roles: readonly string[]): boolean {
  return roles.some((r) => STAFF_ROLES.includes(r) || /#(Instructor|Administrator)$/.test(r));
}

export function identityFromLaunch(token: IdToken): LaunchIdentity {
  const ctx = token.platformContext;
  const roles = Array.isArray(ctx?.roles) ? ctx.roles.filter((r): r is string => typeof r === 'string') : [];
  const contextId = ctx?.context?.id ?? `resource:${ctx?.resource?.id ?? 'sin-contexto'}`;
  const customRut = ctx?.custom?.rut;
  const lisRut = ctx?.lis?.person_sourcedid;
  const candidates: RunCandidate[] = [
    candidate('custom', 'parámetro personalizado rut (p. ej. rut=$User.username)', typeof customRut === 'string' ? customRut : null),
    candidate('lis', 'lis.person_sourcedid (Moodle: "Número de ID" del usuario; Canvas: SIS ID)', typeof lisRut === 'string' ? lisRut : null),
  ];
  const chosen = candidates.find((c) => c.problem === null);
  const parsed = chosen ? parseRun(chosen.raw) : null;
  const info = token.userInfo ?? {};
  const name = info.name ?? ([info.given_name, info.family_name].filter(Boolean).join(' ') || null);
  return {
    learner: { issuer: token.iss, clientId: token.clientId, sub: token.user },
    course: { issuer: token.iss, clientId: token.clientId, contextId },
    courseTitle: ctx?.context?.title ?? ctx?.context?.label ?? null,
    name,
    email: info.email ?? null,
    isStaff: isStaffRole(roles),
    isAdmin: isAdminRole(roles),
    roles,
    run: parsed && parsed.ok ? parsed.run : null,
    runSource: chosen ? chosen.source : null,
    runCandidates: candidates,
    platformName: (token.platformInfo as { name?: string } | undefined)?.name ?? null,
  };
}

function candidate(source: RunCandidate['source'], setting: string, raw: string | null): RunCandidate {
  const parsed = parseRun(raw);
  return { source, setting, raw, problem: parsed.ok ? null : parsed.reason };
}
