/**
 * Issue #20 §1 over real HTTP: the LMS simulator's Names and Roles sends `ext_user_username` as
 * Moodle 4.5.6 does (only where names are shared); Elena, who never opened the tool and whose site
 * keeps the RUN in the username (rut=$User.username), shows her RUN in the staff report and on her
 * page; with names not shared the hint says what the roster lacks. The roster is stored, so this
 * runs on both stores.
 */
import { launchAs, type Launch } from '../support/lti-flow';
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

const page = async (path: string) => {
  const sep = path.includes('?') ? '&' : '?';
  const res = await diego.client.get(`${sys.url}${path}${sep}ltik=${encodeURIComponent(diego.ltik)}`);
  return { ...res, text: decodeEntities(res.text) };
};
/** The report's row of a learner (its HTML). */
const rowOf = (html: string, sub: string): string => {
  const m = new RegExp(`<tr[^>]*data-sub="${sub}"[\\s\\S]*?</tr>`).exec(html);
  if (!m) throw new Error(`no row for ${sub}`);
  return m[0];
};
const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });

it('the simulator\'s Names and Roles members carry ext_user_username (the username) besides lis_person_sourcedid', async () => {
  const stored = await sys.stores.rosters.get(courseKey());
  const elena = stored!.members.find((m) => m.userId === 'elena')!;
  expect(elena).toMatchObject({ username: '15432987-0', sourcedId: null });
  expect(stored!.members.find((m) => m.userId === 'camila')).toMatchObject({ username: 'camila', sourcedId: '9876543-3' });
});

it('Elena, who never launched, shows the RUN of her username in the report and on her page (not "sin RUN")', async () => {
  const report = await page('/lti/staff/report');
  expect(report.status).toBe(200);
  const row = rowOf(report.text, 'elena');
  expect(row).toContain('data-status="sin-marca"');
  expect(row).toContain('15432987-0');
  expect(row).not.toContain('El LMS no envía su RUN');
  const learner = await page('/lti/staff/learners/elena');
  expect(learner.text).toMatch(/id="learner-run">[\s\S]*15432987-0/);
});

it('with names not shared (no username in the roster), Elena is "sin RUN" and the hint says the roster lacks both fields', async () => {
  sys.lms!.nrps.shareNames = false;
  try {
    const report = await page('/lti/staff/report?actualizar=1');
    const row = rowOf(report.text, 'elena');
    expect(row).toContain('data-status="sin-run"');
    expect(row).toContain('No tiene ingresos registrados en la herramienta. La lista de participantes del LMS no trae su nombre de usuario ni su «Número de ID» (en Canvas, SIS ID)');
    expect(row).toContain('Moodle envía el nombre de usuario en la lista solo si la herramienta puede compartir el nombre de los participantes');
  } finally {
    sys.lms!.nrps.shareNames = true;
  }
});
