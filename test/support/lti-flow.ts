/** Walks an LTI 1.3 launch through the LMS simulator over real HTTP, as a browser would. */
import { HttpClient, formById, parseForms, type HttpResponse } from './http-client';
import type { TestSystem } from './test-system';

export interface Launch {
  client: HttpClient;
  panel: HttpResponse;
  ltik: string;
  /** The course reference the pages send back beside the ltik (form field `course`). */
  course: string;
}

/** The session a page of the tool carries in its forms (hidden `ltik` and `course`). */
export function sessionOf(page: string): { ltik: string; course: string } {
  const ltik = /name="ltik" value="([^"]*)"/.exec(page)?.[1] ?? '';
  const course = /name="course" value="([^"]*)"/.exec(page)?.[1] ?? '';
  return { ltik, course };
}

/** Opens the simulator's course page for `userId` and returns the login-initiation form it posts. */
export async function loginInitiation(sys: TestSystem, client: HttpClient, userId: string, deepLink = false) {
  const lms = sys.lms!;
  const page = await client.get(`${lms.url}/course?user=${encodeURIComponent(userId)}`);
  const form = formById(page.text, page.url, deepLink ? 'lti-deep-link' : 'lti-launch');
  return form;
}

/**
 * login → authorization (simulator) → form_post → panel, as a browser that blocks third-party
 * cookies does: by default the client keeps NO cookie (each request goes without any), so every
 * launch proves the tool needs none. `keepCookies` sends them back like a browser allowing them.
 */
export async function launchAs(sys: TestSystem, userId: string, opts: { client?: HttpClient; deepLink?: boolean; keepCookies?: boolean } = {}): Promise<Launch> {
  const client = opts.client ?? new HttpClient({ cookies: opts.keepCookies === true });
  const login = await loginInitiation(sys, client, userId, opts.deepLink);
  const toAuth = await client.submit(login);
  if (toAuth.status !== 302) throw new Error(`login answered ${toAuth.status}: ${toAuth.text.slice(0, 500)}`);
  const auth = await client.get(new URL(toAuth.headers.get('location')!, toAuth.url).toString());
  const [post] = parseForms(auth.text, auth.url);
  if (!post) throw new Error(`authorization endpoint gave no form_post (${auth.status}): ${auth.text.slice(0, 800)}`);
  const panel = await client.submit(post);
  if (panel.status !== 200 && panel.status !== 422) throw new Error(`launch answered ${panel.status}: ${panel.text.slice(0, 800)}`);
  return { client, panel, ...sessionOf(panel.text) };
}

/** A page of the tool reached as its own links do (public/tool-nav.js): a navigation POST carrying the ltik and course. */
export function openToolPage(sys: TestSystem, launch: Pick<Launch, 'client' | 'ltik' | 'course'>, path: string, form: Record<string, string> = {}): Promise<HttpResponse> {
  return launch.client.post(`${sys.url}${path}`, { ltik: launch.ltik, course: launch.course, _nav: '1', ...form });
}

/** Stops after the authorization step: returns the id_token/state form_post without submitting it. */
export async function authorize(sys: TestSystem, userId: string, client = new HttpClient()) {
  const login = await loginInitiation(sys, client, userId);
  const toAuth = await client.submit(login);
  const location = new URL(toAuth.headers.get('location')!, toAuth.url);
  const auth = await client.get(location.toString());
  const [post] = parseForms(auth.text, auth.url);
  if (!post) throw new Error(`no form_post: ${auth.status} ${auth.text.slice(0, 500)}`);
  return { client, post, state: location.searchParams.get('state')!, nonce: location.searchParams.get('nonce')!, login };
}
