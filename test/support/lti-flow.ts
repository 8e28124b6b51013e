/** Walks an LTI 1.3 launch through the LMS simulator over real HTTP, as a browser would. */
import { HttpClient, formById, parseForms, type HttpResponse } from './http-client';
import type { TestSystem } from './test-system';

export interface Launch {
  client: HttpClient;
  panel: HttpResponse;
  ltik: string;
  /** URL of the landing page (with the ltik). */
  url: string;
}

/** Opens the simulator's course page for `userId` and returns the login-initiation form it posts. */
export async function loginInitiation(sys: TestSystem, client: HttpClient, userId: string, deepLink = false) {
  const lms = sys.lms!;
  const page = await client.get(`${lms.url}/course?user=${encodeURIComponent(userId)}`);
  const form = formById(page.text, page.url, deepLink ? 'lti-deep-link' : 'lti-launch');
  return form;
}

/** login → authorization (simulator) → form_post → panel. */
export async function launchAs(sys: TestSystem, userId: string, opts: { client?: HttpClient; deepLink?: boolean } = {}): Promise<Launch> {
  const client = opts.client ?? new HttpClient();
  const login = await loginInitiation(sys, client, userId, opts.deepLink);
  const toAuth = await client.submit(login);
  if (toAuth.status !== 302) throw new Error(`login answered ${toAuth.status}: ${toAuth.text.slice(0, 500)}`);
  const auth = await client.get(new URL(toAuth.headers.get('location')!, toAuth.url).toString());
  const [post] = parseForms(auth.text, auth.url);
  if (!post) throw new Error(`authorization endpoint gave no form_post (${auth.status}): ${auth.text.slice(0, 800)}`);
  const launched = await client.submit(post);
  if (launched.status !== 302) throw new Error(`launch answered ${launched.status}: ${launched.text.slice(0, 800)}`);
  const url = new URL(launched.headers.get('location')!, launched.url).toString();
  const panel = await client.get(url);
  return { client, panel, ltik: new URL(url).searchParams.get('ltik') ?? '', url };
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
