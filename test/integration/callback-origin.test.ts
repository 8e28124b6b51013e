/**
 * Issue #20 §5: "origen no verificado" only on evidence. A callback whose Origin or Referer names a
 * site that is not SENCE's is marked — the same label on the audit page, the report's row and the
 * learner's page; one with none (`Origin: null`, as a browser sends under `Referrer-Policy:
 * no-referrer`, or no header at all) is recorded quietly (kept, shown in the audit's details, no
 * warning); the SENCE emulator leaves its page with the browser's default referrer policy
 * (strict-origin-when-cross-origin: Origin and Referer are SENCE's origin). Answers are stored, so
 * this runs on both stores.
 */
import { launchAs, type Launch } from '../support/lti-flow';
import { claveUnicaForm, loginAtClaveUnica, postBackForm, pressPanelButton } from '../support/sence-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { decodeEntities } from '../support/http-client';

let sys: TestSystem;
let diego: Launch;
beforeAll(async () => {
  sys = await startTestSystem();
  diego = await launchAs(sys, 'diego');
});
afterAll(async () => {
  await sys?.stop();
});

const WARNING = 'origen no verificado';
const senceOrigin = () => new URL(sys.sence!.url).origin;
const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const page = async (path: string) => {
  const sep = path.includes('?') ? '&' : '?';
  const res = await diego.client.get(`${sys.url}${path}${sep}ltik=${encodeURIComponent(diego.ltik)}`);
  return decodeEntities(res.text);
};
const reportRow = (html: string, sub: string): string => new RegExp(`<tr[^>]*data-sub="${sub}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
const auditRows = (html: string): string[] => html.match(/<tr class="[^"]*">[\s\S]*?<\/tr>/g) ?? [];

/** A start trip for `user` up to SENCE's post-back form (not delivered), and the emulator's page. */
async function startTrip(user: string, run: string) {
  const l = await launchAs(sys, user);
  const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
  const back = claveUnicaForm(trip.atSence) ? await loginAtClaveUnica(l.client, trip.atSence, run) : trip.atSence;
  return { l, back, callback: postBackForm(back) };
}
async function answerOf(sub: string) {
  const session = (await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub }, courseKey()))[0]!;
  return (await sys.stores.attendance.listAnswers(session.id))[0]!;
}

let camilaTrip: Awaited<ReturnType<typeof startTrip>>;

it('the emulator leaves SENCE\'s page with the browser\'s default referrer policy (Origin and Referer are SENCE\'s origin), not no-referrer', async () => {
  camilaTrip = await startTrip('camila', '9876543-3');
  expect(camilaTrip.back.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
});

it('a genuine callback (Origin and Referer: SENCE\'s origin) is verified and carries no warning anywhere', async () => {
  const { l, callback } = camilaTrip;
  const res = await l.client.post(callback.action, callback.fields, { origin: senceOrigin(), referer: `${senceOrigin()}/` });
  expect(res.status).toBe(200);
  expect(await answerOf('camila')).toMatchObject({ origin: senceOrigin(), originVerified: true });
  expect(reportRow(await page('/lti/staff/report'), 'camila')).not.toContain(WARNING);
  expect(await page('/lti/staff/learners/camila')).not.toContain(WARNING);
});

it('a callback with Origin: null and no Referer (no-referrer) is recorded quietly: kept and shown in the audit details, no warning', async () => {
  const { l, callback } = await startTrip('elena', '15432987-0');
  const res = await l.client.post(callback.action, callback.fields, { origin: 'null' });
  expect(res.status).toBe(200);
  const answer = await answerOf('elena');
  expect(answer.origin).toBe('null');
  expect(answer.originVerified).toBeUndefined();
  const audit = auditRows(await page('/lti/staff/audit?estudiante=elena&resultado=aceptados'));
  expect(audit.some((r) => r.includes('Origin: null · Referer: —'))).toBe(true);
  expect(audit.some((r) => r.includes(WARNING))).toBe(false);
  expect(reportRow(await page('/lti/staff/report'), 'elena')).not.toContain(WARNING);
  expect(await page('/lti/staff/learners/elena')).not.toContain(WARNING);
});

it('a callback whose Referer names another site is marked with the same label on the audit page, the report\'s row and the learner\'s page', async () => {
  // Ana's start, delivered by hand from another site.
  const { l, callback } = await startTrip('ana', '12345678-5');
  const res = await l.client.post(callback.action, callback.fields, { referer: 'https://atacante.example/forja.html' });
  expect(res.status).toBe(200);
  expect(await answerOf('ana')).toMatchObject({ referer: 'https://atacante.example/forja.html', originVerified: false });
  const label = /<strong class="badge-warn origin-warning"[^>]*>origen no verificado<\/strong>/;
  const audit = auditRows(await page('/lti/staff/audit?estudiante=ana&resultado=aceptados'));
  expect(audit.some((r) => label.test(r) && r.includes('Referer: https://atacante.example/forja.html'))).toBe(true);
  expect(reportRow(await page('/lti/staff/report'), 'ana')).toMatch(label);
  expect(await page('/lti/staff/learners/ana')).toMatch(label);
});
