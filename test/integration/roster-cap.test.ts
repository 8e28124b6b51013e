/**
 * Issue #19 §6: Names and Roles answers had no size cap (a 200 MB answer was read whole; a
 * 100,000-member roster made every report view a 113 MB page). Expected: the tool reads at most
 * NRPS_MAX_MEMBERS members and NRPS_MAX_BYTES bytes (following `Link: rel=next` up to the cap), tells
 * staff in Spanish that the list was cut (also from the stored roster, on both stores), and the
 * report is paginated with its search and status chips working over the whole roster. The LMS
 * simulator serves synthetic learners page by page (NrpsBehaviour.extraLearners).
 */
import { launchAs, type Launch } from '../support/lti-flow';
import { decodeEntities } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { NRPS_MAX_BYTES, NRPS_MAX_MEMBERS } from '../../src/lti/nrps-roster-source';
import { REPORT_PAGE_SIZE } from '../../src/domain/course-report';

let sys: TestSystem;
let diego: Launch;
beforeAll(async () => {
  sys = await startTestSystem({}, { rosterTimeoutMs: 120_000 });
  diego = await launchAs(sys, 'diego');
}, 60_000);
afterAll(async () => {
  await sys?.stop();
});

const report = async (query = '') => {
  const res = await diego.client.get(`${sys.url}/lti/staff/report?ltik=${encodeURIComponent(diego.ltik)}${query}`);
  return { status: res.status, text: decodeEntities(res.text), bytes: Buffer.byteLength(res.text) };
};
const tableRows = (html: string) => html.match(/<tr data-sub="[^"]*"/g) ?? [];
const banner = (n: number) => `La plataforma informó más de ${n} participantes; se muestran los primeros ${n}`;
/** The course's own users in the simulator (learners and staff) come before the synthetic ones. */
const ownMembers = () => sys.lms!.users.length;

describe(`at most ${NRPS_MAX_MEMBERS} members are read`, () => {
  it(`a roster of exactly ${NRPS_MAX_MEMBERS} members is shown whole, without the notice`, async () => {
    sys.lms!.nrps.extraLearners = NRPS_MAX_MEMBERS - ownMembers();
    const page = await report('&actualizar=1');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('La plataforma informó más de');
    expect((await sys.stores.rosters.get({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId }))?.members).toHaveLength(NRPS_MAX_MEMBERS);
  }, 120_000);

  it(`one more (${NRPS_MAX_MEMBERS + 1}) is cut to ${NRPS_MAX_MEMBERS}, and the report says so in Spanish, also from the stored roster`, async () => {
    sys.lms!.nrps.extraLearners = NRPS_MAX_MEMBERS + 1 - ownMembers();
    const page = await report('&actualizar=1');
    expect(page.text).toContain(banner(NRPS_MAX_MEMBERS));
    const stored = await sys.stores.rosters.get({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    expect(stored?.members).toHaveLength(NRPS_MAX_MEMBERS);
    expect(stored?.truncated).toBe(true);
    // The next view uses the stored roster (no LMS call) and still says so.
    const before = sys.lms!.nrps.requests;
    expect((await report()).text).toContain(banner(NRPS_MAX_MEMBERS));
    expect(sys.lms!.nrps.requests).toBe(before);
  }, 120_000);

  it('a 100,000-member roster: the pages after the cap are never asked for, and a report view is one small page', async () => {
    sys.lms!.nrps.extraLearners = 100_000;
    const before = sys.lms!.nrps.requests;
    const page = await report('&actualizar=1');
    expect(page.text).toContain(banner(NRPS_MAX_MEMBERS));
    // 100 members a page: the cap is reached on the 51st page at most.
    expect(sys.lms!.nrps.requests - before).toBeLessThanOrEqual(Math.ceil((NRPS_MAX_MEMBERS + 1) / 100));
    expect(tableRows(page.text)).toHaveLength(REPORT_PAGE_SIZE);
    expect(page.bytes).toBeLessThan(1_000_000);
  }, 120_000);
});

describe(`at most ${NRPS_MAX_BYTES} bytes are read`, () => {
  afterAll(() => {
    sys.lms!.nrps.ignoreLimit = false;
  });

  it('an LMS that ignores `limit` and sends 100,000 members on one page: refused at the byte cap, the last stored roster kept, said in Spanish', async () => {
    sys.lms!.nrps.extraLearners = 100_000;
    sys.lms!.nrps.ignoreLimit = true;
    const page = await report('&actualizar=1');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`El LMS entregó una lista de participantes de más de ${Math.round(NRPS_MAX_BYTES / 1024 / 1024)} MB`);
    expect(page.text).toContain('Se muestra la lista guardada el');
    expect(page.text).toContain(banner(NRPS_MAX_MEMBERS)); // the stored (cut) roster
  }, 120_000);
});

describe('the report is paginated; search and status chips work over the whole roster', () => {
  beforeAll(async () => {
    sys.lms!.nrps.extraLearners = 1_000;
    await report('&actualizar=1');
  }, 120_000);

  it(`shows ${REPORT_PAGE_SIZE} rows a page with an accessible pager that keeps the filters`, async () => {
    const first = await report('&orden=nombre');
    expect(tableRows(first.text)).toHaveLength(REPORT_PAGE_SIZE);
    expect(first.text).toMatch(/<nav[^>]*aria-label="Páginas del reporte"/);
    expect(first.text).toMatch(/aria-current="page"[^>]*>Página 1 de \d+</);
    const next = /<a [^>]*href="([^"]+)"[^>]*rel="next"/.exec(first.text)?.[1];
    expect(next).toContain('orden=nombre');
    expect(next).toContain('pagina=2');
  });

  it('a search counts its matches over the whole roster in the chips and pages through them', async () => {
    // "Sintético 000" matches the synthetic learners 000001–000999 (999 of them), on 10 pages.
    const found = await report('&q=Sint%C3%A9tico%20000');
    expect(found.text).toMatch(/Todos <span class="chip-count">999<\/span>/);
    expect(found.text).toMatch(/id="chip-sin-run"[^>]*>[^<]*<span class="chip-count">999<\/span>/);
    expect(found.text).toContain(`Mostrando 1–${REPORT_PAGE_SIZE} de 999 estudiante(s)`);
    expect(tableRows(found.text)).toHaveLength(REPORT_PAGE_SIZE);
    const last = await report('&q=Sint%C3%A9tico%20000&pagina=10');
    expect(last.text).toContain('Mostrando 901–999 de 999 estudiante(s)');
    expect(tableRows(last.text)).toHaveLength(99);
    expect(last.text).toMatch(/aria-current="page"[^>]*>Página 10 de 10</);
    // A chip link keeps the search and starts at page 1.
    const chip = /id="chip-sin-run"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="chip-sin-run"/.exec(last.text);
    const href = chip?.[1] ?? chip?.[2] ?? '';
    expect(href).toContain('q=Sint');
    expect(href).not.toContain('pagina=');
    // Status and search together: the table holds the status, the chips still count the search.
    const withStatus = await report('&q=Sint%C3%A9tico%20000&estado=al-dia');
    expect(withStatus.text).toContain('Ningún estudiante coincide con el filtro.');
    expect(withStatus.text).toMatch(/Todos <span class="chip-count">999<\/span>/);
  });
});
