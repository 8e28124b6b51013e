/**
 * Issue #7, finding 4: an OTEC belongs to the platforms it is linked to. Two platforms (the demo LMS
 * simulator A and a second simulator B): course staff choose only among their platform's OTECs and
 * never see a token; only LMS administrators manage OTECs, and only their own platform's; nobody
 * overwrites another platform's OTEC. Plus the start-up migration (the operator's CLI: security-otec-cli.test.ts).
 */
import { startTestSystem, type TestSystem } from '../support/test-system';
import { launchOn } from '../support/launch-on';
import { startLmsSimulator, DEMO_USERS, type LmsSimulator } from '../../src/simulators/lms';
import { DEMO_OTEC } from '../../src/simulators/sence';
import { DEMO_OTEC_ID } from '../../src/demo-seed';
import { toolUrls } from '../../src/lti/tool-urls';
import { migrateLegacyOtecs } from '../../src/application/otec-tenancy';
import { sealSecret, secretHint } from '../../src/domain/token-crypto';
import type { CourseSettings, Otec } from '../../src/domain/types';

let sys: TestSystem;
let b: LmsSimulator;
const TOKEN_B = 'B1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D';
const ATTACKER_TOKEN = 'DEADBEEF-0000-4000-8000-000000000000';

beforeAll(async () => {
  sys = await startTestSystem();
  const urls = toolUrls(sys.config.publicUrl);
  b = await startLmsSimulator({ port: 0, clientId: 'cliente-b', users: DEMO_USERS, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
  await sys.lti.registerPlatform({ ...b.platform, name: 'Moodle B' });
});
afterAll(async () => {
  await b?.close();
  await sys?.stop();
});

const staffPost = (l: { client: { post: (u: string, f: Record<string, string>) => Promise<{ status: number; text: string }> }; ltik: string }, p: string, form: Record<string, string>) =>
  l.client.post(`${sys.url}/lti/staff/${p}`, { ltik: l.ltik, ...form });
const settingsPage = async (l: Awaited<ReturnType<typeof launchOn>>) => l.client.get(`${sys.url}/lti/staff?ltik=${encodeURIComponent(l.ltik)}`);
const demoOtec = () => sys.stores.otecs.get(DEMO_OTEC_ID) as Promise<Otec>;

describe('course staff', () => {
  it('an instructor cannot create an OTEC (403 in Spanish, audited, nothing stored)', async () => {
    const diego = await launchOn(sys.lms!, 'diego');
    const before = await sys.stores.otecs.list();
    const res = await staffPost(diego, 'otecs', { name: 'OTEC Falsa', rut: '76123456-0', token: ATTACKER_TOKEN });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Solo un administrador de la plataforma (LMS) puede agregar, modificar o quitar OTEC');
    expect(await sys.stores.otecs.list()).toEqual(before);
    const audit = await sys.stores.audit.list({ limit: 5 });
    expect(audit.some((e) => e.event === 'otec-refused' && !e.accepted)).toBe(true);
  });

  it('an instructor cannot overwrite the OTEC of their own course either (the finding: name and token replaced)', async () => {
    const diego = await launchOn(sys.lms!, 'diego');
    const before = await demoOtec();
    const res = await staffPost(diego, 'otecs', { name: 'Atacante', rut: DEMO_OTEC.rut, token: ATTACKER_TOKEN });
    expect(res.status).toBe(403);
    expect(await demoOtec()).toEqual(before);
  });

  it('an instructor sees their platform\'s OTEC by name and RUT, never a token hint, and no OTEC form', async () => {
    const diego = await launchOn(sys.lms!, 'diego');
    const page = await settingsPage(diego);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`${DEMO_OTEC.name} (${DEMO_OTEC.rut})`);
    expect(page.text).not.toContain(secretHint(DEMO_OTEC.token));
    expect(page.text).not.toContain('id="otec-form"');
    expect(page.text).toContain('los administra el administrador de su plataforma');
  });
});

describe('LMS administrators of two platforms', () => {
  it('B\'s administrator cannot overwrite A\'s OTEC: 403 with the operator\'s command, token unchanged', async () => {
    const adminB = await launchOn(b, 'diego', { admin: true });
    const before = await demoOtec();
    const res = await staffPost(adminB, 'otecs', { name: 'Atacante', rut: DEMO_OTEC.rut, token: ATTACKER_TOKEN });
    expect(res.status).toBe(403);
    expect(res.text).toContain(`El OTEC con RUT ${DEMO_OTEC.rut} ya está registrado en Asistencia SENCE por otra plataforma`);
    expect(res.text).toContain(`npm run cli -- otec link --rut ${DEMO_OTEC.rut} --platform ${b.issuer} --client-id cliente-b`);
    expect(await demoOtec()).toEqual(before);
  });

  it('B\'s administrator adds an OTEC to B; A\'s staff neither see it nor can choose it', async () => {
    const adminB = await launchOn(b, 'diego', { admin: true });
    const added = await staffPost(adminB, 'otecs', { name: 'OTEC Sur', rut: '77111222-6', token: TOKEN_B });
    expect(added.status).toBe(200);
    expect(added.text).toContain('OTEC OTEC Sur agregado.');
    expect(added.text).toContain(`token …${secretHint(TOKEN_B)}`); // the administrator sees the hint
    expect(added.text).not.toContain(DEMO_OTEC.name); // …and only B's OTECs
    const otecB = (await sys.stores.otecs.list()).find((o) => o.rut === '77111222-6')!;
    expect(otecB.platforms).toEqual([{ issuer: b.issuer, clientId: 'cliente-b' }]);

    const diegoA = await launchOn(sys.lms!, 'diego');
    const pageA = await settingsPage(diegoA);
    expect(pageA.text).not.toContain('OTEC Sur');
    const settingsBefore = await sys.stores.courses.get({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    const res = await staffPost(diegoA, 'settings', { otecId: otecB.id, lineaCapacitacion: '3', codSence: '1234567890', codigoCurso: '1234567', requiredHours: '10', environment: 'test', sessionLimitMinutes: '180', warningMinutes: '10' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('La OTEC elegida no existe');
    expect(await sys.stores.courses.get(settingsBefore!)).toEqual(settingsBefore);
  });

  it('B\'s administrator updates B\'s OTEC token and unlinks it; the OTEC\'s other platforms keep it', async () => {
    const adminB = await launchOn(b, 'diego', { admin: true });
    const otecB = (await sys.stores.otecs.list()).find((o) => o.rut === '77111222-6')!;
    const newToken = 'C1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D';
    const updated = await staffPost(adminB, 'otecs', { name: 'OTEC Sur', rut: '77111222-6', token: newToken });
    expect(updated.text).toContain('OTEC OTEC Sur actualizado.');
    expect((await sys.stores.otecs.get(otecB.id))?.tokenHint).toBe(secretHint(newToken));
    // A's administrator cannot unlink B's OTEC from A (it is not A's)…
    const adminA = await launchOn(sys.lms!, 'diego', { admin: true });
    const notOurs = await staffPost(adminA, `otecs/${otecB.id}/unlink`, {});
    expect(notOurs.status).toBe(404);
    expect(notOurs.text).toContain('Ese OTEC no está vinculado a esta plataforma.');
    // …B's can.
    const unlinked = await staffPost(adminB, `otecs/${otecB.id}/unlink`, {});
    expect(unlinked.status).toBe(200);
    expect(unlinked.text).toContain('OTEC OTEC Sur quitado de esta plataforma.');
    expect((await sys.stores.otecs.get(otecB.id))?.platforms).toEqual([]);
  });

  it('a learner does not reach the OTEC routes at all (403)', async () => {
    const ana = await launchOn(sys.lms!, 'ana');
    const res = await staffPost(ana, 'otecs', { name: 'X', rut: '76123456-0', token: ATTACKER_TOKEN });
    expect(res.status).toBe(403);
  });
});

describe('an OTEC linked to two platforms (issue #19): changed only through the CLI', () => {
  const SHARED_RUT = '79555663-K';
  const sharedToken = 'E1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D';
  let shared: Otec;
  beforeAll(async () => {
    const now = new Date();
    shared = await sys.stores.otecs.save({
      id: 'otec-shared', name: 'OTEC Compartida', rut: SHARED_RUT, tokenSealed: sealSecret(sharedToken, sys.config.tokenKey), tokenHint: secretHint(sharedToken),
      platforms: [{ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId }, { issuer: b.issuer, clientId: 'cliente-b' }], createdAt: now, updatedAt: now,
    });
  });

  it.each([['A', () => sys.lms!], ['B', () => b]])('%s\'s administrator cannot rename it or replace its token: 403 otec-forbidden with the exact CLI command, nothing changed, audited', async (_name, platform) => {
    const admin = await launchOn(platform(), 'diego', { admin: true });
    const res = await staffPost(admin, 'otecs', { name: 'Renombrada', rut: SHARED_RUT, token: ATTACKER_TOKEN });
    expect(res.status).toBe(403);
    expect(res.text).toContain(`El OTEC con RUT ${SHARED_RUT} está vinculado a 2 plataformas: un cambio aquí afectaría los cursos de las otras, por eso solo el operador de Asistencia SENCE puede cambiar su nombre o su token.`);
    expect(res.text).toContain(`npm run cli -- otec rotate --rut ${SHARED_RUT} --token -`);
    expect(await sys.stores.otecs.get(shared.id)).toEqual(shared);
    const audit = await sys.stores.audit.list({ limit: 5 });
    expect(audit.some((e) => e.event === 'otec-refused' && e.reason === `otec ${SHARED_RUT} is linked to several platforms`)).toBe(true);
  });

  it('the settings page tells the administrator so, in Spanish, with the command; a single-platform OTEC keeps the form', async () => {
    const admin = await launchOn(b, 'diego', { admin: true });
    const page = await settingsPage(admin);
    expect(page.status).toBe(200);
    const item = /<li[^>]*data-otec-rut="79555663-K"[^>]*>[\s\S]*?<\/li>/.exec(page.text)?.[0] ?? '';
    expect(item).toContain('Compartido con otra plataforma: solo el operador de Asistencia SENCE puede cambiar su nombre o su token');
    expect(item).toContain(`npm run cli -- otec rotate --rut ${SHARED_RUT} --token -`);
  });

  it('unlinking it from one\'s own platform is still allowed (it changes only this platform)', async () => {
    const admin = await launchOn(b, 'diego', { admin: true });
    const res = await staffPost(admin, `otecs/${shared.id}/unlink`, {});
    expect(res.status).toBe(200);
    expect((await sys.stores.otecs.get(shared.id))?.platforms).toEqual([{ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId }]);
    // Now linked to A alone: A's administrator manages it from the page again.
    const adminA = await launchOn(sys.lms!, 'diego', { admin: true });
    const renamed = await staffPost(adminA, 'otecs', { name: 'OTEC Compartida', rut: SHARED_RUT, token: sharedToken });
    expect(renamed.status).toBe(200);
  });
});

describe('migration of OTECs stored before links existed', () => {
  it('links a legacy OTEC to the platforms of the courses that use it; one no course uses stays unlinked; idempotent', async () => {
    const now = new Date();
    const legacy: Otec = { id: 'otec-legacy', name: 'OTEC Antigua', rut: '78333444-5', tokenSealed: sealSecret(TOKEN_B, sys.config.tokenKey), tokenHint: secretHint(TOKEN_B), platforms: null, createdAt: now, updatedAt: now };
    const unused: Otec = { ...legacy, id: 'otec-unused', rut: '76123456-0', name: 'OTEC Sin Cursos' };
    await sys.stores.otecs.save(legacy);
    await sys.stores.otecs.save(unused);
    const settings: CourseSettings = { otecId: legacy.id, lineaCapacitacion: 3, codSence: '1234567890', codigoCurso: '1234567', requiredHours: 10, environment: 'test', sessionLimitMinutes: 180, warningMinutes: 10 };
    await sys.stores.courses.saveSettings({ issuer: b.issuer, clientId: 'cliente-b', contextId: 'curso-antiguo' }, settings);
    const migrated = await migrateLegacyOtecs(sys.stores, now);
    expect(migrated.map((m) => m.otec.id).sort()).toEqual(['otec-legacy', 'otec-unused']);
    expect((await sys.stores.otecs.get('otec-legacy'))?.platforms).toEqual([{ issuer: b.issuer, clientId: 'cliente-b' }]);
    expect((await sys.stores.otecs.get('otec-unused'))?.platforms).toEqual([]);
    expect(await migrateLegacyOtecs(sys.stores, now)).toEqual([]);
  });
});
