/** Walks the learner's browser through SENCE's RCE flow against the built-in emulator. */
import { formById, parseForms, type HttpClient, type HttpResponse, type ParsedForm } from './http-client';
import type { TestSystem } from './test-system';
import { DEMO_CLAVEUNICA_PASSWORD } from '../../src/simulators/sence';

export interface SenceTrip {
  /** The tool's page that auto-posts to SENCE. */
  toSence: HttpResponse;
  senceForm: ParsedForm;
  /** What the emulator answered to the form (ClaveÚnica page, or an immediate error post-back). */
  atSence: HttpResponse;
}

/** Presses "Abrir sesión" / "Cerrar sesión" in the panel and posts the RCE form to the emulator. */
export async function pressPanelButton(sys: TestSystem, client: HttpClient, ltik: string, op: 'start' | 'close'): Promise<SenceTrip> {
  const toSence = await client.post(`${sys.url}/lti/sence/${op}`, { ltik });
  if (toSence.status !== 200) throw Object.assign(new Error(`${op} answered ${toSence.status}`), { response: toSence });
  const senceForm = formById(toSence.text, toSence.url, 'auto-post');
  const atSence = await client.submit(senceForm);
  return { toSence, senceForm, atSence };
}

export function claveUnicaForm(page: HttpResponse): ParsedForm | undefined {
  return parseForms(page.text, page.url).find((f) => f.action.endsWith('/ClaveUnica'));
}

/** Logs in at the stand-in ClaveÚnica page; returns the emulator's post-back page (not yet delivered). */
export async function loginAtClaveUnica(client: HttpClient, page: HttpResponse, run: string, password = DEMO_CLAVEUNICA_PASSWORD): Promise<HttpResponse> {
  const form = claveUnicaForm(page);
  if (!form) throw new Error(`no ClaveÚnica form (${page.status}):\n${page.text.slice(0, 1200)}`);
  return client.submit(form, { run, clave: password });
}

/** The emulator's auto-posting form back to our UrlRetoma / UrlError. */
export function postBackForm(page: HttpResponse): ParsedForm {
  const form = parseForms(page.text, page.url).find((f) => f.method === 'post' && /\/cb\/(ok|er)\//.test(f.action));
  if (!form) throw new Error(`no post-back form (${page.status}):\n${page.text.slice(0, 1500)}`);
  return form;
}

/** Full trip: panel button → emulator → ClaveÚnica → callback delivered to the tool. */
export async function senceRoundTrip(sys: TestSystem, client: HttpClient, ltik: string, op: 'start' | 'close', run = '12345678-5') {
  const trip = await pressPanelButton(sys, client, ltik, op);
  const back = claveUnicaForm(trip.atSence) ? await loginAtClaveUnica(client, trip.atSence, run) : trip.atSence;
  const callback = postBackForm(back);
  const result = await client.submit(callback);
  return { ...trip, callback, result };
}
