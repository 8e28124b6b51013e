/**
 * Issue #9, item 7: staff-fixable SENCE errors show as a banner on the report until resolved, and
 * reach the course's contacts as a daily Spanish e-mail digest through SMTP_URL. The test starts its
 * own SMTP server and reads what it received; an unreachable server is logged, audited and retried
 * the next day with nothing lost.
 */
import { launchAs, type Launch } from '../support/lti-flow';
import { pressPanelButton } from '../support/sence-flow';
import { freePort, startTestSystem, type TestSystem } from '../support/test-system';
import { decodeEntities } from '../support/http-client';
import { startSmtpSink, mailText, type SmtpSink } from '../support/smtp-sink';

let sys: TestSystem;
let smtp: SmtpSink;
let smtpPort: number;
let diego: Launch;
// 15 January 2026, 07:30 in Santiago (UTC−3): before the digest hour (8).
let clock = Date.UTC(2026, 0, 15, 10, 30, 0);
const HOUR = 3_600_000;

beforeAll(async () => {
  smtpPort = await freePort();
  smtp = await startSmtpSink(smtpPort);
  sys = await startTestSystem({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, ALERT_FROM: 'Asistencia SENCE <alertas@otec.example.cl>' }, { now: () => new Date(clock) });
  // Elena's RUN is not on the SENCE action's roster: SENCE answers 208 (only staff can fix it).
  const elena = await launchAs(sys, 'elena');
  const trip = await pressPanelButton(sys, elena.client, elena.ltik, 'start');
  expect(decodeEntities(trip.atSence.text)).toMatch(/\/cb\/er\//);
  const back = (await import('../support/sence-flow')).postBackForm(trip.atSence);
  expect((await elena.client.submit(back)).status).toBe(200);
  diego = await launchAs(sys, 'diego'); // caches the roster: Diego is the course's contact
});
afterAll(async () => {
  await sys?.stop();
  await smtp?.close().catch(() => undefined);
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });

it('shows the error as a banner on the report and the staff home until resolved', async () => {
  const report = decodeEntities((await diego.client.get(`${sys.url}/lti/staff/report?ltik=${encodeURIComponent(diego.ltik)}`)).text);
  expect(report).toContain('id="staff-alerts"');
  expect(report).toMatch(/<li class="staff-alert" data-code="208"><strong>Error 208<\/strong>/);
  expect(report).toContain('Afecta a 1 estudiante(s): Elena Muñoz.');
  expect(decodeEntities(diego.panel.text)).toContain('data-code="208"');
});

it('sends nothing before the digest hour', async () => {
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 0, failed: 0, skipped: 0 });
  expect(smtp.messages).toHaveLength(0);
});

it('sends one Spanish digest a day to the course contacts, read back from the SMTP server', async () => {
  clock += HOUR; // 08:30 Santiago
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 1, failed: 0, skipped: 0 });
  expect(smtp.messages).toHaveLength(1);
  const mail = smtp.messages[0]!;
  expect(mail.from).toBe('alertas@otec.example.cl');
  expect(mail.to).toEqual(['diego.fuentes@example.com']);
  const { subject, body } = mailText(mail.raw);
  expect(subject).toBe('Asistencia SENCE: 1 error(es) por resolver en «Excel para planillas de cálculo (demo SENCE)» (1 estudiante(s))');
  expect(body).toContain('Resumen diario de Asistencia SENCE');
  expect(body).toContain('• Error 208:');
  expect(body).toContain('Estudiantes afectados (1): Elena Muñoz');
  expect(body).toContain('Generado el 15-01-2026 08:30 (hora de Santiago).');
  expect((await sys.stores.audit.list({ course: courseKey(), limit: 20 })).some((e) => e.event === 'alert-digest-sent' && e.reason === 'resumen diario enviado a 1 contacto(s): errores 208')).toBe(true);
  // Later the same day: nothing more.
  clock += 5 * HOUR;
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 0, failed: 0, skipped: 1 });
  expect(smtp.messages).toHaveLength(1);
});

it('an unreachable SMTP server is logged and audited, and the next day\'s digest still carries the error', async () => {
  await smtp.close();
  clock += 24 * HOUR; // next day, 13:30
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 0, failed: 1, skipped: 0 });
  expect(sys.logger.lines.some((l) => l.level === 'error' && l.message === 'alert digest could not be sent; it will be tried again tomorrow' && /ECONNREFUSED/.test(String(l.fields.error)))).toBe(true);
  expect((await sys.stores.audit.list({ course: courseKey(), limit: 20 })).some((e) => e.event === 'alert-digest-failed' && e.reason.startsWith('resumen diario no enviado (se reintenta mañana)'))).toBe(true);
  const state = await sys.stores.digests.get(courseKey());
  expect(state).toMatchObject({ lastAttemptDay: '2026-01-16', lastSentAt: new Date(Date.UTC(2026, 0, 15, 11, 30)) });
  expect(state?.lastError).toMatch(/ECONNREFUSED/);
  // Not again the same day, even with the server back.
  smtp = await startSmtpSink(smtpPort);
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 0, failed: 0, skipped: 1 });
  clock += 24 * HOUR; // the day after
  expect(await sys.alertDigest!.runOnce()).toEqual({ sent: 1, failed: 0, skipped: 0 });
  expect(smtp.messages).toHaveLength(1);
  expect(mailText(smtp.messages[0]!.raw).body).toContain('• Error 208:');
});

it('the audit events of the digest have Spanish labels on the learner-independent pages too', async () => {
  const { EVENT_LABELS } = await import('../../src/web/event-labels');
  expect(EVENT_LABELS['alert-digest-sent']).toBe('Resumen de alertas enviado');
  expect(EVENT_LABELS['alert-digest-failed']).toBe('Resumen de alertas no enviado');
});
