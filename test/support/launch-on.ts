/** Launches the tool from any LMS simulator instance (a second platform), optionally as an LMS administrator. */
import { HttpClient, formById, parseForms, type HttpResponse } from './http-client';
import { CLAIM, ROLE, type LmsSimulator } from '../../src/simulators/lms';
import { sessionOf } from './lti-flow';

export const ADMIN_ROLES = [
  ROLE.instructor,
  'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator',
  'http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator',
];

export interface PlatformLaunch {
  client: HttpClient;
  page: HttpResponse;
  ltik: string;
  course: string;
}

/** login → authorization → form_post; returns the tool's answer to the form_post (the landing page when launched). */
export async function postLaunch(lms: LmsSimulator, userId: string, opts: { admin?: boolean; client?: HttpClient } = {}): Promise<{ client: HttpClient; launched: HttpResponse }> {
  const client = opts.client ?? new HttpClient();
  const course = await client.get(`${lms.url}/course?user=${encodeURIComponent(userId)}`);
  const login = formById(course.text, course.url, 'lti-launch');
  const toAuth = await client.submit(login);
  if (toAuth.status !== 302) throw new Error(`login answered ${toAuth.status}: ${toAuth.text.slice(0, 500)}`);
  if (opts.admin) lms.tamperNextIdToken({ claims: (c) => ({ ...c, [CLAIM.roles]: ADMIN_ROLES }) });
  const auth = await client.get(new URL(toAuth.headers.get('location')!, toAuth.url).toString());
  const [post] = parseForms(auth.text, auth.url);
  if (!post) throw new Error(`no form_post (${auth.status}): ${auth.text.slice(0, 500)}`);
  return { client, launched: await client.submit(post) };
}

export async function launchOn(lms: LmsSimulator, userId: string, opts: { admin?: boolean; client?: HttpClient } = {}): Promise<PlatformLaunch> {
  const { client, launched } = await postLaunch(lms, userId, opts);
  if (launched.status !== 200) throw new Error(`launch answered ${launched.status}: ${launched.text.slice(0, 800)}`);
  return { client, page: launched, ...sessionOf(launched.text) };
}
