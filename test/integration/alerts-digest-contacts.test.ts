/**
 * Issue #19 §6: a roster e-mail such as `ivo@a.cl, otro@b.cl` became two digest recipients (the
 * SMTP client splits the list). One address per contact, validated: a contact whose e-mail is not
 * exactly one address is left out, and staff are told in the audit entry of the digest (their
 * audit page) which contact was left out and where to correct it. Real SMTP server, real LMS roster.
 */
import { launchAs } from '../support/lti-flow';
import { postBackForm, pressPanelButton } from '../support/sence-flow';
import { freePort, startTestSystem, type TestSystem } from '../support/test-system';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { DEMO_USERS } from '../../src/simulators/lms';
import { contactAddress } from '../../src/domain/roster';

let sys: TestSystem;
let smtp: SmtpSink;
// 15 January 2026, 09:30 in Santiago (UTC−3): after the digest hour (8).
let clock = Date.UTC(2026, 0, 15, 12, 30, 0);
const staff = (id: string, name: string, email: string) => ({ id, name, givenName: name, familyName: 'x', email, role: 'instructor' as const, customRut: null, sourcedId: '' });
const USERS = [
  ...DEMO_USERS.filter((u) => u.id !== 'diego'),
  { ...DEMO_USERS.find((u) => u.id === 'diego')!, email: 'ivo@a.cl, otro@b.cl' },
  staff('prof2', 'Profesora Dos', 'prof.dos@example.cl'),
  staff('prof3', 'Profesor Tres', 'tres@example.cl;cuatro@example.cl'),
];

beforeAll(async () => {
  const smtpPort = await freePort();
  smtp = await startSmtpSink(smtpPort);
  sys = await startTestSystem({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, ALERT_FROM: 'Asistencia SENCE <alertas@otec.example.cl>' }, { now: () => new Date(clock), lms: { users: USERS } });
  // Elena's RUN is not on the SENCE action's roster: SENCE answers 208 (only staff can fix it).
  const elena = await launchAs(sys, 'elena');
  const trip = await pressPanelButton(sys, elena.client, elena.ltik, 'start');
  expect((await elena.client.submit(postBackForm(trip.atSence))).status).toBe(200);
  await launchAs(sys, 'diego'); // caches the roster
});
afterAll(async () => {
  await sys?.stop();
  await smtp?.close().catch(() => undefined);
});

describe('contactAddress: one valid address or none', () => {
  it.each([
    ['prof.dos@example.cl', 'prof.dos@example.cl'],
    ['  Prof.Dos@Example.cl ', 'Prof.Dos@Example.cl'],
    ['ivo@a.cl, otro@b.cl', null],
    ['ivo@a.cl,otro@b.cl', null],
    ['tres@example.cl;cuatro@example.cl', null],
    ['ivo@a.cl otro@b.cl', null],
    ['Ivo <ivo@a.cl>', null],
    ['ivo@a.cl\r\nBcc: x@y.cl', null],
    ['ivo', null],
    ['ivo@localhost', null],
    ['@a.cl', null],
    ['ivo@@a.cl', null],
    ['"a,b"@a.cl', null],
    [`${'a'.repeat(64)}@example.cl`, `${'a'.repeat(64)}@example.cl`],
    [`${'a'.repeat(65)}@example.cl`, null],
    [`a@${'b'.repeat(240)}.cl`, null],
    [null, null],
  ])('%j → %j', (raw, expected) => {
    expect(contactAddress(raw)).toBe(expected);
  });
});

it('sends the digest only to the contact with one valid address, and tells staff which were left out and where to fix them', async () => {
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 1, failed: 0, skipped: 0 });
  expect(smtp.messages).toHaveLength(1);
  expect(smtp.messages[0]!.to).toEqual(['prof.dos@example.cl']);
  const course = { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId };
  const sent = (await sys.stores.audit.list({ course, limit: 20 })).find((e) => e.event === 'alert-digest-sent')!;
  expect(sent.reason).toBe(
    'resumen diario enviado a 1 contacto(s): errores 208. Se omitieron 2 contacto(s) cuyo correo en la plataforma no es una dirección válida: '
    + 'Diego Fuentes («ivo@a.cl, otro@b.cl»), Profesor Tres («tres@example.cl;cuatro@example.cl»). '
    + 'Corrija el correo en el perfil de cada uno en la plataforma (LMS): cada contacto debe tener una sola dirección.',
  );
  expect(sent.details).toMatchObject({ recipients: 1, invalidContacts: 2 });
});

it('with no valid contact left, the day\'s digest is not sent and the audit says why and where to fix it', async () => {
  const course = { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId };
  const roster = (await sys.stores.rosters.get(course))!;
  const members = roster.members.map((m) => (m.userId === 'prof2' ? { ...m, email: 'prof.dos@example.cl otra@example.cl' } : m));
  await sys.stores.rosters.save({ ...roster, members, fetchedAt: new Date(clock) });
  // The error is still open and the next day comes: a digest is due.
  clock += 24 * 3600 * 1000;
  const before = smtp.messages.length;
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 0, failed: 0, skipped: 1 });
  expect(smtp.messages).toHaveLength(before);
  const failed = (await sys.stores.audit.list({ course, limit: 20 })).find((e) => e.event === 'alert-digest-failed')!;
  expect(failed.reason).toContain('resumen diario no enviado: ningún contacto tiene un correo válido. Se omitieron 3 contacto(s)');
  expect(failed.reason).toContain('Profesora Dos («prof.dos@example.cl otra@example.cl»)');
  expect(failed.reason).toContain('Corrija el correo en el perfil de cada uno en la plataforma (LMS)');
  // Once a day: a second run the same day writes nothing more.
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 0, failed: 0, skipped: 1 });
  expect((await sys.stores.audit.list({ course, limit: 50 })).filter((e) => e.event === 'alert-digest-failed')).toHaveLength(1);
});
