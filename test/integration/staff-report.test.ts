/**
 * Issue #9, item 1 (and 2, 8): the coordinator's course report over real HTTP — the roster comes
 * from the LMS simulator's Names and Roles endpoint (paging, 401/500, slowness), merged with the
 * tool's records; statuses, filters, the learner's page, the staff home, and role checks.
 */
import { launchAs, type Launch } from '../support/lti-flow';
import { loginAtClaveUnica, postBackForm, pressPanelButton, senceRoundTrip } from '../support/sence-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { decodeEntities } from '../support/http-client';

let sys: TestSystem;
let diego: Launch;
const ROSTER_TIMEOUT_MS = 1500;

beforeAll(async () => {
  sys = await startTestSystem({}, { rosterTimeoutMs: ROSTER_TIMEOUT_MS });
});
afterAll(async () => {
  await sys?.stop();
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const page = async (path: string, launch = diego) => {
  const sep = path.includes('?') ? '&' : '?';
  const res = await launch.client.get(`${sys.url}${path}${sep}ltik=${encodeURIComponent(launch.ltik)}`);
  return { ...res, text: decodeEntities(res.text) };
};
/** The report table's rows: sub → status. */
const rowsOf = (html: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<tr data-sub="([^"]+)" data-status="([^"]+)">/g)) out[m[1]!] = m[2]!;
  return out;
};

describe('before any roster was fetched', () => {
  it('an LMS whose roster service answers 401 still gives a report of the tool\'s own records, and says so', async () => {
    const ana = await launchAs(sys, 'ana');
    await senceRoundTrip(sys, ana.client, ana.ltik, 'start');
    sys.lms!.nrps.failWith = 401;
    try {
      diego = await launchAs(sys, 'diego'); // the staff home asks for the roster too
      expect(decodeEntities(diego.panel.text)).toContain('El LMS rechazó la consulta de la lista de participantes (HTTP 401)');
      const res = await page('/lti/staff/report');
      expect(res.status).toBe(200);
      expect(res.text).toContain('El LMS rechazó la consulta de la lista de participantes (HTTP 401)');
      expect(res.text).toContain('Se muestran solo los estudiantes que la herramienta ya conoce');
      expect(res.text).toContain('Lista de participantes del LMS: no disponible.');
      expect(rowsOf(res.text)).toEqual({ ana: 'sesion-abierta' });
      expect(sys.logger.lines.some((l) => l.message === 'course roster unavailable (NRPS)' && l.fields.code === 'roster-unauthorized' && l.fields.status === 401)).toBe(true);
      expect(await sys.stores.rosters.get(courseKey())).toBeNull();
    } finally {
      sys.lms!.nrps.failWith = null;
    }
    await senceRoundTrip(sys, ana.client, ana.ltik, 'close');
  });
});

describe('with the roster', () => {
  beforeAll(async () => {
    await launchAs(sys, 'camila');
    await launchAs(sys, 'bruno'); // no valid RUN: the launch stores nothing
  });

  it('lists every learner of the roster — also one who never launched — with a Spanish status, and not the instructor', async () => {
    const before = sys.lms!.nrps.requests;
    const res = await page('/lti/staff/report');
    expect(res.status).toBe(200);
    expect(sys.lms!.nrps.requests).toBe(before + 1);
    expect(rowsOf(res.text)).toEqual({ ana: 'al-dia', bruno: 'sin-run', camila: 'sin-marca', elena: 'sin-marca' });
    expect(res.text).toContain('Elena Muñoz');
    expect(res.text).toContain('15432987-0');
    expect(res.text).toContain('sin ingresos registrados en la herramienta');
    // Issue #20: the hint says what is missing (Bruno's username is not a RUN, his ID number is empty).
    expect(res.text).toContain('En la lista de participantes del LMS, su nombre de usuario («bruno») no es un RUN válido y su «Número de ID» (en Canvas, SIS ID) viene vacío');
    expect(res.text).toContain('Lista de participantes del LMS actualizada hace menos de 1 min.');
    expect(res.text).not.toContain('data-sub="diego"');
    for (const word of ['callback-accepted', 'start success', '>closed<']) expect(res.text).not.toContain(word);
    // Counts by status in the chips.
    expect(res.text).toMatch(/id="chip-sin-marca"[^>]*>sin marca de acceso <span class="chip-count">2<\/span>/);
    expect(res.text).toMatch(/id="chip-al-dia"[^>]*>con marca de acceso <span class="chip-count">1<\/span>/);
  });

  it('uses the cached roster (no LMS call) until refreshed, then pages through Link: rel="next"', async () => {
    const before = sys.lms!.nrps.requests;
    await page('/lti/staff/report');
    expect(sys.lms!.nrps.requests).toBe(before);
    sys.lms!.nrps.pageSize = 2; // 5 members → 3 pages
    try {
      const res = await page('/lti/staff/report?actualizar=1');
      expect(sys.lms!.nrps.requests).toBe(before + 3);
      expect(Object.keys(rowsOf(res.text)).sort()).toEqual(['ana', 'bruno', 'camila', 'elena']);
      expect((await sys.stores.rosters.get(courseKey()))!.members.map((m) => m.userId).sort()).toEqual(['ana', 'bruno', 'camila', 'diego', 'elena']);
    } finally {
      sys.lms!.nrps.pageSize = null;
    }
  });

  it('an LMS answering 500 on refresh: the kept roster and the tool\'s records are shown, and the page says so', async () => {
    sys.lms!.nrps.failWith = 500;
    try {
      const res = await page('/lti/staff/report?actualizar=1');
      expect(res.status).toBe(200);
      expect(res.text).toContain('El LMS no pudo entregar la lista de participantes (HTTP 500).');
      expect(res.text).toContain('Se muestra la lista guardada el');
      expect(Object.keys(rowsOf(res.text)).sort()).toEqual(['ana', 'bruno', 'camila', 'elena']);
    } finally {
      sys.lms!.nrps.failWith = null;
    }
  });

  it('a slow LMS (past the timeout) does not hold the report: it answers in time with the kept roster', async () => {
    // The LMS answers 4 s after the tool's timeout; the report must come well before that (the
    // 3 s of margin keep a loaded CI machine from failing it, and still tell "did not wait").
    sys.lms!.nrps.delayMs = ROSTER_TIMEOUT_MS + 4000;
    try {
      const t0 = Date.now();
      const res = await page('/lti/staff/report?actualizar=1');
      const took = Date.now() - t0;
      expect(res.status).toBe(200);
      expect(took).toBeLessThan(ROSTER_TIMEOUT_MS + 3000);
      expect(res.text).toContain(`El LMS tardó más de ${Math.ceil(ROSTER_TIMEOUT_MS / 1000)} s en entregar la lista de participantes.`);
      expect(Object.keys(rowsOf(res.text))).toContain('elena');
    } finally {
      sys.lms!.nrps.delayMs = 0;
    }
  });

  it('filters by status and by action, searches by name or RUN, and sorts', async () => {
    expect(Object.keys(rowsOf((await page('/lti/staff/report?estado=sin-run')).text))).toEqual(['bruno']);
    expect(Object.keys(rowsOf((await page('/lti/staff/report?estado=sin-marca')).text)).sort()).toEqual(['camila', 'elena']);
    expect(Object.keys(rowsOf((await page('/lti/staff/report?q=15.432.987')).text))).toEqual(['elena']);
    expect(Object.keys(rowsOf((await page('/lti/staff/report?q=munoz')).text))).toEqual(['elena']);
    expect(Object.keys(rowsOf((await page('/lti/staff/report?q=nadie')).text))).toEqual([]);
    const code = (await sys.stores.courses.get(courseKey()))!.settings!.codigoCurso;
    expect(Object.keys(rowsOf((await page(`/lti/staff/report?accion=${encodeURIComponent(code)}`)).text)).sort()).toEqual(['ana', 'bruno', 'camila', 'elena']);
    expect(Object.keys(rowsOf((await page('/lti/staff/report?accion=OTRA-ACCION-1')).text))).toEqual([]);
    expect(Object.keys(rowsOf((await page('/lti/staff/report?orden=estado')).text))).toEqual(['bruno', 'camila', 'elena', 'ana']);
    // Unknown filter values fall back to "all".
    expect(Object.keys(rowsOf((await page('/lti/staff/report?estado=%3Cscript%3E')).text))).toHaveLength(4);
  });

  it('renders the three charts as SVG with a table alternative, no script', async () => {
    const res = await page('/lti/staff/report');
    for (const id of ['chart-status', 'chart-percent', 'chart-days']) expect(res.text).toContain(`id="${id}"`);
    expect(res.text.match(/<svg class="chart-svg"[^>]*role="img"/g)).toHaveLength(3);
    expect(res.text).toContain('Ver los datos del gráfico «Estados del curso»');
    expect(res.text).not.toMatch(/<script(?![^>]*src="\/public\/)/);
  });

  it('a learner\'s page: every session with IdSesionSence, the attempts and callbacks in Spanish', async () => {
    const res = await page('/lti/staff/learners/ana');
    expect(res.status).toBe(200);
    const session = (await sys.stores.attendance.listCourseSessions(courseKey())).find((s) => s.learner.sub === 'ana')!;
    expect(res.text).toContain(session.idSesionSence!);
    expect(res.text).toContain('cerrada');
    expect(res.text).toContain('Envío a SENCE');
    expect(res.text).toContain('formulario de inicio enviado a SENCE (ambiente de pruebas)');
    expect(res.text).toContain('Respuesta de SENCE registrada');
    expect(res.text).toContain('cierre aceptado');
    expect(res.text).not.toContain('callback-accepted');
    const elena = await page('/lti/staff/learners/elena');
    expect(elena.text).toContain('Todavía no abrió ninguna sesión SENCE (no tiene ingresos registrados en la herramienta)');
    const unknown = await page('/lti/staff/learners/nadie');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('Este estudiante no está en la lista del curso');
  });

  it('a learner\'s page marks a tampered callback posted from another site "origen no verificado", with the reason in Spanish', async () => {
    const camila = await launchAs(sys, 'camila');
    const trip = await pressPanelButton(sys, camila.client, camila.ltik, 'start');
    const back = await loginAtClaveUnica(camila.client, trip.atSence, '9876543-3');
    const form = postBackForm(back);
    // Issue #20 §5: the mark needs evidence (a Referer naming another site), not only a rejection.
    const forged = await camila.client.post(form.action, { ...form.fields, RunAlumno: '12345678-5' }, { referer: 'https://atacante.example/forja.html' });
    expect(forged.status).toBe(400);
    const res = await page('/lti/staff/learners/camila');
    expect(res.text).toContain('Respuesta rechazada');
    expect(res.text).toContain('rechazada: RunAlumno no coincide');
    expect(res.text).toContain('origen no verificado');
    expect(res.text).toContain('formulario de inicio enviado a SENCE (ambiente de pruebas)');
    expect((await page('/lti/staff/learners/ana')).text).not.toContain('origen no verificado');
  });

  describe('issue #20: a report that fits the course frame and says what it shows', () => {
    const tableOf = (html: string) => html.slice(html.indexOf('<table id="report-table"'), html.indexOf('</table>', html.indexOf('<table id="report-table"')));
    const rowOf = (html: string, sub: string) => {
      const from = html.indexOf(`<tr data-sub="${sub}"`);
      return from < 0 ? '' : html.slice(from, html.indexOf('</tr>', from));
    };

    it('the course\'s SENCE action is said once above the table; a row names an action only when it is the learner\'s own', async () => {
      const settings = (await sys.stores.courses.get(courseKey()))!.settings!;
      await sys.stores.enrollments.saveMany([{ course: courseKey(), sub: 'elena', run: '15432987-0', action: { codigoCurso: 'OTRA-ACCION-7', codSence: '1999999999', lineaCapacitacion: 1 }, exempt: false, updatedAt: new Date() }]);
      try {
        const res = await page('/lti/staff/report');
        expect(res.text).toContain(`Acción SENCE del curso: <strong>${settings.codigoCurso}</strong>`);
        const table = tableOf(res.text);
        // Line and CodSence of the course's action are not repeated on every row.
        expect(table).not.toContain(settings.codigoCurso);
        expect(table).not.toContain(settings.codSence);
        expect(table).not.toContain('<th scope="col">Acción SENCE</th>');
        expect(rowOf(res.text, 'ana')).not.toContain('Acción propia');
        expect(rowOf(res.text, 'elena')).toContain('Acción propia: OTRA-ACCION-7 · línea 1 · CodSence 1999999999');
        // At most seven columns (ten did not fit 990 px).
        expect((table.match(/<th scope="col">/g) ?? []).length).toBeLessThanOrEqual(7);
      } finally {
        await sys.stores.enrollments.saveMany([{ course: courseKey(), sub: 'elena', run: '15432987-0', action: null, exempt: false, updatedAt: new Date() }]);
      }
    });

    it('a visible legend (not tooltips) says what each status means', async () => {
      const res = await page('/lti/staff/report');
      const from = res.text.indexOf('id="status-legend"');
      expect(from).toBeGreaterThan(0);
      const legend = res.text.slice(from, res.text.indexOf('</dl>', from));
      expect(legend).toContain('con marca de acceso');
      expect(legend).toContain('no dice cuántas horas lleva');
      expect(legend).toContain('sin marca de acceso');
      expect(legend).toContain('último intento con error');
      expect(res.text).not.toMatch(/class="chip[^"]*"[^>]*title=/);
      expect(res.text).not.toContain('>al día<');
    });

    it('the chips count what the search shows', async () => {
      const res = await page('/lti/staff/report?q=a&estado=sin-run'); // Ana, Camila, Elena (Muñoz), Bruno (Soto? no «a»)
      const searched = Object.keys(rowsOf((await page('/lti/staff/report?q=a')).text));
      const chip = (s: string) => Number(res.text.match(new RegExp(`id="chip-${s}"[^>]*>[^<]*<span class="chip-count">(\\d+)</span>`))![1]);
      const total = ['con-error', 'sin-run', 'sesion-abierta', 'sin-marca', 'al-dia', 'exento'].reduce((a, s) => a + chip(s), 0);
      expect(total).toBe(searched.length);
      expect(res.text).toMatch(new RegExp(`Todos <span class="chip-count">${searched.length}</span>`));
    });

    it('the navigation marks the page you are on (aria-current and a visible mark) and has no "Sesiones"', async () => {
      const nav = (html: string) => html.slice(html.indexOf('<nav class="staff-nav"'), html.indexOf('</nav>', html.indexOf('<nav class="staff-nav"')));
      const report = nav((await page('/lti/staff/report?q=ana')).text);
      expect(report).toMatch(/<a class="[^"]*nav-current[^"]*" id="nav-report" href="\/lti\/staff\/report" aria-current="page">/);
      expect((report.match(/aria-current/g) ?? []).length).toBe(1);
      expect(report).not.toContain('Sesiones');
      expect(report).not.toContain('/lti/staff/attendance');
      const learner = nav((await page('/lti/staff/learners/ana')).text);
      expect(learner).toMatch(/id="nav-report"[^>]*aria-current="page"/); // a learner's page belongs to the report
      const settings = nav((await page('/lti/staff')).text);
      expect(settings).toMatch(/id="nav-settings"[^>]*aria-current="page"/);
      expect((settings.match(/aria-current/g) ?? []).length).toBe(1);
    });

    it('the old "Sesiones" page and its CSV are gone (410) with a link to the report and the sessions export', async () => {
      for (const path of ['/lti/staff/attendance', '/lti/staff/attendance.csv']) {
        const res = await page(path);
        expect(res.status).toBe(410);
        expect(res.text).toContain('La página «Sesiones» ya no existe');
        expect(res.text).toContain('href="/lti/staff/report"');
        expect(res.text).toContain('href="/lti/staff/export/sessions.csv"');
        expect(res.text).not.toMatch(/href="[^"]*ltik=/); // links carry no ltik (tool-nav.js posts it)
      }
    });

    it('after a search the results carry the focus mark; a plain visit does not', async () => {
      expect((await page('/lti/staff/report?q=ana')).text).toMatch(/id="report-count"[^>]*data-focus-on-load/);
      expect((await page('/lti/staff/report?estado=sin-marca')).text).toMatch(/id="report-count"[^>]*data-focus-on-load/);
      expect((await page('/lti/staff/report')).text).not.toContain('data-focus-on-load');
    });
  });

  it('the print-friendly page lists the whole report', async () => {
    const res = await page('/lti/staff/report/print');
    expect(res.status).toBe(200);
    expect(res.text).toContain('id="print-table"');
    expect(res.text).toContain('Elena Muñoz');
    expect(res.text).toContain('Generado el');
  });
});

describe('staff home', () => {
  it('shows the course state in one screen: configured, learners by status, open sessions, what to fix', async () => {
    const camila = await launchAs(sys, 'camila');
    const trip = await senceRoundTrip(sys, camila.client, camila.ltik, 'start', '9876543-3');
    expect(trip.result.status).toBe(200);
    const home = await launchAs(sys, 'diego');
    const text = decodeEntities(home.panel.text);
    expect(home.panel.status).toBe(200);
    expect(text).toContain('Ingresó como parte del equipo docente');
    expect(text).toContain('SENCE está configurado: acción');
    expect(text).toMatch(/id="home-sesion-abierta"[^>]*><strong>1<\/strong>/);
    expect(text).toMatch(/id="home-sin-run"[^>]*><strong>1<\/strong>/);
    expect(text).toMatch(/<ul id="open-now"><li><a href="[^"]*\/lti\/staff\/learners\/camila[^"]*">Camila Rojas<\/a>/);
    expect(text).toContain('1 sin RUN');
    // Links carry no ltik (public/tool-nav.js posts them with it).
    for (const path of ['/lti/staff/report"', '/lti/staff/actions"', '/lti/staff"']) expect(text).toContain(`href="${path}`);
    expect(text).not.toContain(`ltik=${encodeURIComponent(home.ltik)}`);
    await senceRoundTrip(sys, camila.client, camila.ltik, 'close', '9876543-3');
  });
});

describe('role checks', () => {
  it.each(['/lti/staff/report', '/lti/staff/report/print', '/lti/staff/learners/ana', '/lti/staff/report?actualizar=1'])('a learner opening %s gets 403 in Spanish', async (path) => {
    const camila = await launchAs(sys, 'camila');
    const before = sys.lms!.nrps.requests;
    const res = await page(path, camila);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Esta página es solo para el equipo docente del curso.');
    expect(res.text).not.toContain('Elena');
    expect(sys.lms!.nrps.requests).toBe(before);
  });
});
