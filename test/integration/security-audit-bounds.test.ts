/**
 * Issue #19 §6, audit flooding. A rejection reason carried attacker-chosen field names into the
 * fingerprint (one audit row per distinct name), a learner's refused requests to distinct
 * `/lti/staff/<anything>` paths were one row each (with the path), the audit log grew without bound
 * and its page showed only the newest 300 rows (the flood). Expected: fingerprints from a fixed set
 * of reasons (the field name in the details), refused staff requests rate-limited and counted as one
 * row per learner, course and window, retention swept by the tool's sweeps, and a paginated page
 * whose filters survive the pages. Runs on both stores (jest.mongo.config.js).
 */
import { randomUUID } from 'node:crypto';
import { HttpClient } from '../support/http-client';
import { launchAs, type Launch } from '../support/lti-flow';
import { claveUnicaForm, loginAtClaveUnica, postBackForm, pressPanelButton } from '../support/sence-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { DEFAULT_RATE_LIMITS } from '../../src/web/rate-limit';
import { STAFF_REFUSALS_PER_MINUTE } from '../../src/web/staff-guard';
import { AUDIT_PAGE_SIZE } from '../../src/web/routes/staff-routes';
import type { AuditEntry } from '../../src/domain/types';

let sys: TestSystem;
let diego: Launch;
const DAY = 24 * 3600 * 1000;
beforeAll(async () => {
  sys = await startTestSystem({ TRUST_PROXY: '1', AUDIT_RETENTION_DAYS: '30' });
  diego = await launchAs(sys, 'diego');
});
afterAll(async () => {
  await sys?.stop();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const auditPage = (query = '') => diego.client.get(`${sys.url}/lti/staff/audit?ltik=${encodeURIComponent(diego.ltik)}${query}`);
const rows = (html: string) => (html.match(/<tr class="[^"]*">[\s\S]*?<\/tr>/g) ?? []);

describe('a callback body with attacker-chosen field names', () => {
  it(`${DEFAULT_RATE_LIMITS.callbacksPerAttempt} refused posts with distinct field names are one audit row with a count; the name is in the details, cut`, async () => {
    const ana = await launchAs(sys, 'ana');
    const trip = await pressPanelButton(sys, ana.client, ana.ltik, 'start');
    const back = claveUnicaForm(trip.atSence) ? await loginAtClaveUnica(ana.client, trip.atSence, '12345678-5') : trip.atSence;
    const callback = postBackForm(back);
    for (let i = 0; i < DEFAULT_RATE_LIMITS.callbacksPerAttempt; i++) {
      // The same name twice (the second with a trailing space): refused as a duplicated field.
      const name = `Campo${i}x${'y'.repeat(40)}`;
      const res = await new HttpClient().post(callback.action, { ...callback.fields, [name]: 'a', [`${name} `]: 'b' }, from('198.51.100.61'));
      expect([i, res.status]).toEqual([i, 400]);
      expect(res.text).toContain('La respuesta recibida no tiene el formato de SENCE.');
    }
    const entries = (await sys.stores.audit.list({ course: courseKey(), accepted: false, limit: 100 })).filter((e) => e.sourceIp === '198.51.100.61');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ count: DEFAULT_RATE_LIMITS.callbacksPerAttempt, reason: 'duplicate-field: field sent more than once' });
    expect(entries[0]!.details.field).toBe(`Campo0x${'y'.repeat(40)}`);
    const page = rows((await auditPage('&resultado=rechazados')).text).filter((r) => r.includes('198.51.100.61'));
    expect(page).toHaveLength(1);
    expect(page[0]).toContain('rechazada: campos repetidos');
    expect(page[0]).toContain(`×${DEFAULT_RATE_LIMITS.callbacksPerAttempt}`);
  });
});

describe('a learner\'s refused requests to staff pages', () => {
  it(`${STAFF_REFUSALS_PER_MINUTE} refusals to distinct paths (every staff guard) are one row with a count and no path; the ${STAFF_REFUSALS_PER_MINUTE + 1}th is a 429 that writes nothing`, async () => {
    const bruno = await launchAs(sys, 'bruno');
    const paths = ['/lti/staff/report', '/lti/staff/actions', '/lti/staff/export/report.csv', '/lti/staff/audit'];
    for (let i = 0; i < STAFF_REFUSALS_PER_MINUTE; i++) {
      const path = i < paths.length ? paths[i] : `/lti/staff/x${i}-${randomUUID()}`;
      const res = await bruno.client.get(`${sys.url}${path}?ltik=${encodeURIComponent(bruno.ltik)}`);
      expect([i, res.status]).toEqual([i, 403]);
      expect(res.text).toContain('Esta página es solo para el equipo docente del curso.');
    }
    const over = await bruno.client.get(`${sys.url}/lti/staff/otra-mas?ltik=${encodeURIComponent(bruno.ltik)}`);
    expect(over.status).toBe(429);
    expect(over.text).toContain('Demasiadas solicitudes seguidas.');
    const mine = (await sys.stores.audit.list({ course: courseKey(), learner: { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'bruno' }, accepted: false, limit: 100 }))
      .filter((e) => e.event === 'access-denied');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ count: STAFF_REFUSALS_PER_MINUTE, reason: 'learner tried a staff page' });
    expect(JSON.stringify(mine[0])).not.toContain('/lti/staff/x');
    const page = rows((await auditPage('&estudiante=bruno')).text);
    expect(page).toHaveLength(1);
    expect(page[0]).toContain('un estudiante intentó abrir una página del equipo docente');
  });
});

describe('retention: the periodic sweep deletes entries older than AUDIT_RETENTION_DAYS', () => {
  it('an entry last seen exactly 30 days ago is kept, one a millisecond older is deleted, on this store', async () => {
    const now = Date.now();
    const entry = (reason: string, atMs: number): AuditEntry => ({
      id: randomUUID(), at: new Date(atMs), lastAt: new Date(atMs), count: 1, event: 'settings-saved', accepted: true, reason,
      sourceIp: null, learner: null, course: courseKey(), sessionId: null, details: {},
    });
    // The sweep runs a little after `now`: "exactly at the limit" is measured from the sweep's clock.
    const started = Date.now();
    const atLimit = entry('retention-at-limit', started + 60_000 - 30 * DAY);
    const past = entry('retention-past-limit', started - 30 * DAY - 1);
    const old = entry('retention-old', now - 400 * DAY);
    for (const e of [atLimit, past, old]) await sys.stores.audit.record(e);
    await sys.sweeper.runNow();
    const reasons = (await sys.stores.audit.list({ course: courseKey(), limit: 10_000 })).map((e) => e.reason);
    expect(reasons).toContain('retention-at-limit');
    expect(reasons).not.toContain('retention-past-limit');
    expect(reasons).not.toContain('retention-old');
  });
});

describe('the audit page is paginated and its filters survive the pages', () => {
  it(`shows ${AUDIT_PAGE_SIZE} rows per page, the current page marked, and keeps "rechazados" and the learner in the pager's links`, async () => {
    const base = Date.now() - DAY;
    const learner = { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'camila' };
    const total = AUDIT_PAGE_SIZE + 5;
    for (let i = 0; i < total; i++) {
      await sys.stores.audit.record({
        id: randomUUID(), at: new Date(base + i * 1000), lastAt: new Date(base + i * 1000), count: 1, event: 'callback-rejected', accepted: false,
        reason: 'callback-token: wrong token', sourceIp: `192.0.2.${i % 250}`, learner, course: courseKey(), sessionId: null,
        details: { step: 'callback-token', n: i },
      });
    }
    const first = await auditPage('&resultado=rechazados&estudiante=camila');
    expect(first.status).toBe(200);
    expect(rows(first.text)).toHaveLength(AUDIT_PAGE_SIZE);
    expect(first.text).toMatch(/<nav[^>]*aria-label="Páginas del registro"/);
    expect(first.text).toMatch(/aria-current="page"[^>]*>Página 1</);
    const next = /<a [^>]*href="([^"]+)"[^>]*rel="next"/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    expect(next).toContain('resultado=rechazados');
    expect(next).toContain('estudiante=camila');
    expect(next).toContain('pagina=2');
    const second = await diego.client.get(`${sys.url}${next}&ltik=${encodeURIComponent(diego.ltik)}`);
    expect(second.status).toBe(200);
    expect(rows(second.text).length).toBeGreaterThanOrEqual(5);
    expect(rows(second.text).every((r) => r.includes('<td>rechazado</td>'))).toBe(true);
    expect(second.text).toMatch(/aria-current="page"[^>]*>Página 2</);
    expect(second.text).toMatch(/rel="prev"/);
    // Past the last page: an empty page that says so, with the way back.
    const beyond = await auditPage('&resultado=rechazados&estudiante=camila&pagina=999');
    expect(beyond.text).toContain('No hay registros con este filtro.');
    // A page number that is not one is the first page.
    expect((await auditPage('&pagina=abc')).text).toMatch(/aria-current="page"[^>]*>Página 1</);
  });
});
