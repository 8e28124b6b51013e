/**
 * What learners and instructors see, in real Chromium, in the shape real deployments have: the LMS
 * (simulator, http://127.0.0.1:…) and the tool (http://localhost:…) are different sites, the tool in
 * the course page's iframe, and the browser profile blocks third-party cookies as Chromium's default,
 * Safari and every iPhone browser do (each journey first proves what its profile does).
 *
 * Each journey: the learner launches, sees the panel, opens a SENCE session (new window, stand-in
 * ClaveÚnica), the panel updates by itself, the learner closes the session from the panel and the
 * accredited time grows; then the instructor opens the settings and the attendance report. The same
 * with LTI Platform Storage (Canvas), with third-party cookies allowed, and with the new-window
 * container; and a browser whose storage answers nothing gets "Abrir en una ventana nueva", which works.
 * Screenshots go to test-output/screenshots/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { chromiumAvailable, clickInToolFrame, openBrowser, SCREENSHOTS, shot, thirdPartyCookiesProbe, type ThirdPartyCookies } from '../support/browser';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { DEMO_CLAVEUNICA_PASSWORD } from '../../src/simulators/sence';
import { formatAccredited } from '../../src/domain/time-format';

// Without Chromium there is nothing to drive. CI installs it (.ci/run), so there it must exist;
// on a developer machine without it, say so loudly instead of failing on a missing package.
const canRun = chromiumAvailable() || process.env.CI === 'true';
if (!canRun) {
  console.warn('browser tests: NOT RUN — /usr/bin/chromium is missing (apt-get install -y chromium). CI installs it and runs them.');
}
const describeIfChromium = canRun ? describe : describe.skip; // skipped only when Chromium is absent outside CI (reason above)

interface Journey {
  name: string;
  cookies: ThirdPartyCookies;
  container: 'iframe' | 'window';
  storage: 'off' | 'on';
  learner: { id: string; name: string; run: string };
}

const ANA = { id: 'ana', name: 'Ana Pérez', run: '12345678-5' };
const CAMILA = { id: 'camila', name: 'Camila Rojas', run: '9876543-3' };

const JOURNEYS: Journey[] = [
  { name: 'a-blocked-iframe-moodle', cookies: 'blocked', container: 'iframe', storage: 'off', learner: ANA },
  { name: 'b-blocked-iframe-platform-storage', cookies: 'blocked', container: 'iframe', storage: 'on', learner: CAMILA },
  { name: 'c-allowed-iframe', cookies: 'allowed', container: 'iframe', storage: 'off', learner: ANA },
  { name: 'd-blocked-new-window', cookies: 'blocked', container: 'window', storage: 'off', learner: CAMILA },
];

let sys: TestSystem;
let clock = Date.now();
/** Minutes each learner has accredited so far (each journey adds one 65-minute session). */
const accredited = new Map<string, number>();

describeIfChromium('learner and instructor journeys in Chromium, LMS and tool on different sites', () => {
  beforeAll(async () => {
    sys = await startTestSystem({}, { now: () => new Date(clock) });
    sys.sence!.setClock(() => new Date(clock));
    expect(new URL(sys.lms!.url).hostname).toBe('127.0.0.1');
    expect(new URL(sys.config.publicUrl).hostname).toBe('localhost');
  });
  afterAll(async () => {
    // For a journey that fails only under load: every request the tool served, beside the screenshots.
    if (sys) writeFileSync(path.join(SCREENSHOTS, '..', 'learner-journey-tool-log.json'), JSON.stringify(sys.logger.lines, null, 1));
    await sys?.stop();
  });

  const toolFrame = async (page: Page): Promise<Frame> => {
    const handle = await page.waitForSelector('iframe#tool-frame');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('no tool frame');
    return frame;
  };

  async function claveUnica(win: Page, run: string) {
    await win.waitForSelector('text=Portal de Aplicaciones Sence');
    await win.getByLabel('Ingresa tu RUN').fill(run);
    await win.getByLabel('Ingresa tu Clave').fill(DEMO_CLAVEUNICA_PASSWORD);
    await win.getByRole('button', { name: 'Continuar' }).click();
  }

  /** Opens the course page and returns where the tool shows up: the iframe, or the new window. */
  async function launch(context: BrowserContext, j: Journey, userId: string): Promise<{ lms: Page; tool: Page | Frame; click(selector: string): Promise<void> }> {
    const lms = await context.newPage();
    const q = new URLSearchParams({ user: userId, container: j.container, ...(j.container === 'iframe' ? { storage: j.storage } : {}) });
    await lms.goto(`${sys.lms!.url}/course?${q.toString()}`);
    if (j.container === 'iframe') {
      const frame = await toolFrame(lms);
      return { lms, tool: frame, click: (selector) => clickInToolFrame(lms, selector) };
    }
    const [win] = await Promise.all([context.waitForEvent('page'), lms.getByRole('button', { name: 'Abrir Asistencia SENCE en una ventana nueva' }).click()]);
    return { lms, tool: win, click: (selector) => win.click(selector) };
  }

  for (const j of JOURNEYS) {
    it(`${j.name}: third-party cookies ${j.cookies}, ${j.container}${j.container === 'iframe' ? `, platform storage ${j.storage}` : ''}`, async () => {
      const browser = await openBrowser({ thirdPartyCookies: j.cookies });
      try {
        const { context } = browser;
        expect(await thirdPartyCookiesProbe(context)).toBe(j.cookies);

        // The learner launches and sees the panel.
        const learner = await launch(context, j, j.learner.id);
        const before = accredited.get(j.learner.id) ?? 0;
        await learner.tool.waitForSelector(`text=TIEMPO ACREDITADO EN SENCE: ${formatAccredited(before * 60)}`);
        expect(await learner.tool.locator('#open-button').textContent()).toBe('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
        expect(await learner.tool.locator('#open-button').isEnabled()).toBe(true);
        // The ltik is in no URL the tool put in the address bar.
        expect(learner.tool.url()).not.toContain('ltik=');
        await learner.lms.screenshot({ path: shot(`${j.name}-01-panel`), fullPage: true });
        if (j.name.startsWith('a-')) {
          const page = learner.lms;
          await page.setViewportSize({ width: 375, height: 800 });
          const overflow = await learner.tool.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow).toBeLessThanOrEqual(0);
          await page.screenshot({ path: shot(`${j.name}-02-panel-phone-width`), fullPage: true });
          await page.setViewportSize({ width: 1100, height: 900 });
        }

        // Open a SENCE session: a new window, the stand-in ClaveÚnica, SENCE's answer.
        const [win] = await Promise.all([context.waitForEvent('page'), learner.click('#open-button')]);
        await claveUnica(win, j.learner.run);
        await win.waitForSelector('text=Asistencia correctamente ingresada');
        await win.screenshot({ path: shot(`${j.name}-03-sence-window-open`), fullPage: true });

        // The panel updates by itself: close button and a green clock.
        await learner.tool.waitForSelector('text=CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE', { timeout: 20_000 });
        expect(await learner.tool.locator('#clock').getAttribute('class')).toContain('clock-ok');
        await (j.container === 'iframe' ? learner.lms : (learner.tool as Page)).screenshot({ path: shot(`${j.name}-04-panel-session-open`), fullPage: true });

        // 1 h 5 min later (server clock) the learner closes from the panel; SENCE's window asks again.
        clock += 65 * 60_000;
        await learner.click('#close-button');
        await claveUnica(win, j.learner.run);
        await win.waitForSelector('text=Sesión correctamente cerrada');
        const now = before + 65;
        accredited.set(j.learner.id, now);
        await learner.tool.waitForSelector(`text=TIEMPO ACREDITADO EN SENCE: ${formatAccredited(now * 60)}`, { timeout: 20_000 });
        await (j.container === 'iframe' ? learner.lms : (learner.tool as Page)).screenshot({ path: shot(`${j.name}-05-panel-time-accredited`), fullPage: true });
        await win.close();

        // The instructor opens the settings and the attendance report where the LMS shows the tool.
        const staff = await launch(context, j, 'diego');
        await staff.tool.waitForSelector('text=Entraste como parte del equipo docente');
        await staff.click('#nav-settings');
        await staff.tool.waitForSelector('h1:has-text("Configuración SENCE del curso")');
        await staff.click('#nav-attendance');
        await staff.tool.waitForSelector('#attendance-table');
        const table = (await staff.tool.locator('#attendance-table').textContent()) ?? '';
        expect(table).toContain(j.learner.name);
        expect(table).toContain(formatAccredited(now * 60));
        await (j.container === 'iframe' ? staff.lms : (staff.tool as Page)).screenshot({ path: shot(`${j.name}-06-staff-report`), fullPage: true });
      } finally {
        await browser.close();
      }
    }, 150_000);
  }

  it('a browser whose platform storage answers nothing is offered "Abrir en una ventana nueva", and that works', async () => {
    const browser = await openBrowser({ thirdPartyCookies: 'blocked' });
    try {
      const { context } = browser;
      const page = await context.newPage();
      await page.goto(`${sys.lms!.url}/course?user=ana&container=iframe&storage=broken`);
      const frame = await toolFrame(page);
      await frame.waitForSelector('#storage-unavailable:not([hidden])', { timeout: 15_000 });
      expect(await frame.locator('#storage-unavailable').textContent()).toContain('bloquea el almacenamiento de otros sitios');
      await page.screenshot({ path: shot('e-storage-blocked-offer-new-window'), fullPage: true });
      const [win] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(page, '#relaunch')]);
      await win.waitForSelector('text=TIEMPO ACREDITADO EN SENCE');
      expect(await win.locator('#open-button').isEnabled()).toBe(true);
      await win.screenshot({ path: shot('e-storage-blocked-new-window-panel'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});

/**
 * Issue #20 §9–12, on a system of their own (fresh learners): honest time texts and progress, trips
 * to SENCE that never come back ("Salir sin ingresar" at start and at close, the tool's clock moved
 * past ATTEMPT_TTL_MINUTES), two tabs with one trip, the session-expired notice in a 600 px frame,
 * and axe-core (0 serious/critical) on the panel and the SENCE result pages at 375 and 1200 px.
 */
describeIfChromium("issue #20: the learner's panel in Chromium", () => {
  let sys2: TestSystem;
  let now2 = Date.now();
  const TTL_MINUTES = 30;
  const NNBSP = '\u202f';

  beforeAll(async () => {
    sys2 = await startTestSystem({ ATTEMPT_TTL_MINUTES: String(TTL_MINUTES) }, { now: () => new Date(now2) });
    sys2.sence!.setClock(() => new Date(now2));
  });
  afterAll(async () => {
    await sys2?.stop();
  });

  const frameOf = async (page: Page): Promise<Frame> => {
    const handle = await page.waitForSelector('iframe#tool-frame');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('no tool frame');
    return frame;
  };
  const openCourse = async (context: BrowserContext, user: string): Promise<{ lms: Page; frame: Frame }> => {
    const lms = await context.newPage();
    await lms.goto(`${sys2.lms!.url}/course?user=${user}&container=iframe&storage=off`);
    const frame = await frameOf(lms);
    await frame.waitForSelector('#panel');
    return { lms, frame };
  };
  /** The tool frame as it is now (the panel reloads itself: a Frame handle outlives navigations). */
  const panelText = async (lms: Page): Promise<string> => (await (await frameOf(lms)).locator('#panel').textContent()) ?? '';
  async function claveUnica(win: Page, run: string) {
    await win.waitForSelector('text=Portal de Aplicaciones Sence');
    await win.getByLabel('Ingresa tu RUN').fill(run);
    await win.getByLabel('Ingresa tu Clave').fill(DEMO_CLAVEUNICA_PASSWORD);
    await win.getByRole('button', { name: 'Continuar' }).click();
  }
  const AXE_SOURCE = readFileSync(require.resolve('axe-core'), 'utf8');
  /** axe-core in the page or frame; returns the serious and critical violations (id: first targets). */
  async function axeSerious(target: Page | Frame): Promise<string[]> {
    await target.evaluate(AXE_SOURCE);
    const violations = await target.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown[] }> }> }> } }).axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
    });
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.targets.join(' ')}`);
  }
  async function axeAtWidths(page: Page, target: () => Promise<Page | Frame>, name: string) {
    for (const width of [375, 1200]) {
      await page.setViewportSize({ width, height: 900 });
      expect({ page: `${name} at ${width} px`, serious: await axeSerious(await target()) }).toEqual({ page: `${name} at ${width} px`, serious: [] });
    }
    await page.setViewportSize({ width: 1100, height: 900 });
  }

  it('a 56-second session reads "56 segundos" and the total moves by exactly that; the progress figure moves; the access mark is explained; axe on the panel and the SENCE pages', async () => {
    const browser = await openBrowser({ thirdPartyCookies: 'blocked' });
    try {
      const { context } = browser;
      const { lms } = await openCourse(context, 'ana');
      let frame = await frameOf(lms);
      expect(await frame.locator('#accredited').textContent()).toBe('TIEMPO ACREDITADO EN SENCE: 0 minutos');
      expect(await frame.locator('#progress-label').textContent()).toBe(`0${NNBSP}%`);
      await axeAtWidths(lms, () => frameOf(lms), 'panel (no session yet)');

      // A 56-second session.
      const [win] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(lms, '#open-button')]);
      await claveUnica(win, ANA.run);
      await win.waitForSelector('text=Asistencia correctamente ingresada');
      await axeAtWidths(win, async () => win, 'SENCE result (start)');
      await (await frameOf(lms)).waitForSelector('#close-button', { timeout: 20_000 });
      await axeAtWidths(lms, () => frameOf(lms), 'panel (session open)');
      now2 += 56_000;
      await clickInToolFrame(lms, '#close-button');
      await claveUnica(win, ANA.run);
      await win.waitForSelector('text=Sesión correctamente cerrada');
      expect(await win.locator('.sence-window').textContent()).toContain('Se sumaron 56 segundos a tu tiempo acreditado en SENCE.');
      await axeAtWidths(win, async () => win, 'SENCE result (close)');
      await (await frameOf(lms)).waitForSelector('text=TIEMPO ACREDITADO EN SENCE: 56 segundos', { timeout: 20_000 });
      frame = await frameOf(lms);
      expect(await frame.locator('#last-session').textContent()).toContain('Tu última sesión se cerró correctamente en SENCE y sumó 56 segundos.');
      // 56 s of 20 hours: the figure says it moved, without claiming a tenth.
      expect(await frame.locator('#progress-label').textContent()).toBe(`menos de 0,1${NNBSP}%`);
      // The seeds' all-caps line stays, with a sentence a learner understands.
      expect(await frame.locator('#access-mark').textContent()).toBe('MARCA DE ACCESO EN SENCE ACREDITADA PREVIAMENTE');
      expect(await frame.locator('#access-mark-help').textContent()).toContain('SENCE ya registró que entraste a este curso');
      await axeAtWidths(lms, () => frameOf(lms), 'panel (after a session)');
      const text = await panelText(lms);
      expect(text).not.toMatch(/hora\(s\)|minuto\(s\)/);

      // A second session of 3 min 4 s: the total moves from 56 s to 4 min, the session says 3 min 4 s.
      await clickInToolFrame(lms, '#open-button');
      await claveUnica(win, ANA.run);
      await win.waitForSelector('text=Asistencia correctamente ingresada');
      await (await frameOf(lms)).waitForSelector('#close-button', { timeout: 20_000 });
      now2 += 184_000;
      await clickInToolFrame(lms, '#close-button');
      await claveUnica(win, ANA.run);
      await win.waitForSelector('text=Sesión correctamente cerrada');
      await (await frameOf(lms)).waitForSelector('text=TIEMPO ACREDITADO EN SENCE: 4 minutos', { timeout: 20_000 });
      frame = await frameOf(lms);
      expect(await frame.locator('#last-session').textContent()).toContain('sumó 3 minutos y 4 segundos.');
      expect(await frame.locator('#progress-label').textContent()).toBe(`0,3${NNBSP}%`); // 240 s of 72,000 s
      expect(Number(await frame.locator('#progress').getAttribute('value'))).toBe(0.3);
      await lms.screenshot({ path: shot('issue20-9-honest-time'), fullPage: true });
      await win.close();
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('"Salir sin ingresar" at start and at close: the panel says what to press, and after ATTEMPT_TTL_MINUTES what happened', async () => {
    const browser = await openBrowser({ thirdPartyCookies: 'blocked' });
    try {
      const { context } = browser;
      const { lms } = await openCourse(context, 'camila');
      let [win] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(lms, '#open-button')]);
      await win.waitForSelector('text=Portal de Aplicaciones Sence');
      await win.getByText('Salir sin ingresar').click();
      await win.waitForSelector('text=Saliste sin ingresar');
      // While the trip is pending, the panel says what to press if the learner left SENCE.
      await (await frameOf(lms)).waitForSelector('#starting', { timeout: 20_000 });
      let starting = (await (await frameOf(lms)).locator('#starting').textContent()) ?? '';
      expect(starting).toContain('Si en SENCE elegiste «Salir sin ingresar» o cerraste esa ventana, presiona «CONTINUAR EL INGRESO EN SENCE»');
      expect(starting).toContain(`${TTL_MINUTES} minutos después de empezar`);
      expect(await (await frameOf(lms)).locator('#continue-button').textContent()).toBe('CONTINUAR EL INGRESO EN SENCE');
      await lms.screenshot({ path: shot('issue20-10-start-pending'), fullPage: true });

      // The attempt's expiry passes with no answer: the panel says what happened and what to press.
      now2 += (TTL_MINUTES * 60 + 5) * 1000;
      await (await frameOf(lms)).waitForSelector('#last-session', { timeout: 20_000 });
      const last = (await (await frameOf(lms)).locator('#last-session').textContent()) ?? '';
      expect(last).toContain('No recibimos respuesta de SENCE al ingreso que empezaste a las');
      expect(last).toContain('presiona «CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE»');
      expect(await (await frameOf(lms)).locator('#open-button').isEnabled()).toBe(true);
      await lms.screenshot({ path: shot('issue20-10-start-abandoned'), fullPage: true });

      // A new start, completed; then the close is left at ClaveÚnica.
      await win.close();
      [win] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(lms, '#open-button')]);
      await claveUnica(win, CAMILA.run);
      await win.waitForSelector('text=Asistencia correctamente ingresada');
      await (await frameOf(lms)).waitForSelector('#close-button', { timeout: 20_000 });
      now2 += 120_000;
      await clickInToolFrame(lms, '#close-button');
      await win.waitForSelector('text=Portal de Aplicaciones Sence');
      await win.getByText('Salir sin ingresar').click();
      await win.waitForSelector('text=Saliste sin ingresar');
      await (await frameOf(lms)).waitForSelector('#closing', { timeout: 20_000 });
      const closing = (await (await frameOf(lms)).locator('#closing').textContent()) ?? '';
      expect(closing).toContain('Si en SENCE elegiste «Salir sin ingresar» o cerraste esa ventana, presiona otra vez «CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE»');
      now2 += (TTL_MINUTES * 60 + 5) * 1000;
      await (await frameOf(lms)).waitForSelector('#close-notice', { timeout: 20_000 });
      expect(await (await frameOf(lms)).locator('#close-notice').textContent()).toContain('No recibimos respuesta de SENCE al cierre que pediste a las');
      expect(await panelText(lms)).not.toContain('cerrando en SENCE');
      await lms.screenshot({ path: shot('issue20-10-close-abandoned'), fullPage: true });
      // Pressing close again works: the time is accredited.
      await clickInToolFrame(lms, '#close-button');
      await claveUnica(win, CAMILA.run);
      await win.waitForSelector('text=Sesión correctamente cerrada');
      await (await frameOf(lms)).waitForSelector('text=TIEMPO ACREDITADO EN SENCE: 32 minutos', { timeout: 20_000 });
      starting = await panelText(lms);
      expect(starting).not.toContain('No recibimos respuesta');
      await win.close();
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('two tabs: the second sees the pending trip and continues it; SENCE and the tool stay in step', async () => {
    const browser = await openBrowser({ thirdPartyCookies: 'blocked' });
    try {
      const { context } = browser;
      const tab1 = await openCourse(context, 'ana');
      const [win1] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(tab1.lms, '#open-button')]);
      await win1.waitForSelector('text=Portal de Aplicaciones Sence');
      now2 += 60_000; // past a double click

      // The second tab sees the pending trip and is offered to continue it, not a second start.
      const tab2 = await openCourse(context, 'ana');
      const f2 = await frameOf(tab2.lms);
      expect(await f2.locator('#starting').textContent()).toContain('Tienes un ingreso a SENCE en curso');
      expect(await f2.locator('#open-button').count()).toBe(0);
      await tab2.lms.screenshot({ path: shot('issue20-11-second-tab'), fullPage: true });

      // A tab still showing the old panel (its open button pressed before it refreshed) gets the same offer.
      const startsSoFar = sys2.sence!.received.filter((r) => r.op === 'IniciarSesion').length;
      const [stale] = await Promise.all([
        context.waitForEvent('page'),
        f2.evaluate(() => {
          const form = document.createElement('form');
          form.method = 'post';
          form.action = '/lti/sence/start';
          form.target = 'sence_stale';
          const src = document.querySelector('#panel form input[name="ltik"]') as HTMLInputElement;
          for (const input of Array.from(src.form!.querySelectorAll('input[type=hidden]'))) {
            if ((input as HTMLInputElement).name !== 'continuar') form.appendChild(input.cloneNode());
          }
          document.body.appendChild(form);
          form.submit();
        }),
      ]);
      await stale.waitForSelector('#pending-trip');
      expect(await stale.locator('#pending-trip').textContent()).toContain('Ya tienes un ingreso a SENCE en curso');
      expect(sys2.sence!.received.filter((r) => r.op === 'IniciarSesion')).toHaveLength(startsSoFar); // nothing sent to SENCE
      await stale.close();

      // Continue in the second tab: the same trip (same IdSesionAlumno), completed there.
      const before = sys2.sence!.received.filter((r) => r.op === 'IniciarSesion');
      const [win2] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(tab2.lms, '#continue-button')]);
      await claveUnica(win2, ANA.run);
      await win2.waitForSelector('text=Asistencia correctamente ingresada');
      const starts = sys2.sence!.received.filter((r) => r.op === 'IniciarSesion');
      expect(starts.length).toBe(before.length + 1);
      expect(starts[starts.length - 1]!.fields.IdSesionAlumno).toBe(before[before.length - 1]!.fields.IdSesionAlumno);
      await (await frameOf(tab1.lms)).waitForSelector('#close-button', { timeout: 20_000 });
      await (await frameOf(tab2.lms)).waitForSelector('#close-button', { timeout: 20_000 });

      // If the learner also finishes the first window, that answer says what it means.
      await claveUnica(win1, ANA.run);
      await win1.waitForSelector('h1');
      expect(await win1.locator('body').textContent()).toContain('tu sesión SENCE ya se había abierto desde otra ventana, y esa es la que cuenta en tu curso');
      await win1.close();
      await win2.close();
    } finally {
      await browser.close();
    }
  }, 240_000);

  it('the session-expired notice is where the learner looks: inside the first 600 px of the frame, focused, role=alert', async () => {
    const browser = await openBrowser({ thirdPartyCookies: 'blocked' });
    try {
      const { context } = browser;
      const { lms } = await openCourse(context, 'camila');
      // Moodle's frame shows about 600 px of the tool (REFERENCE §4.4); on a 390 px phone the panel is tall.
      await lms.setViewportSize({ width: 390, height: 844 });
      await lms.evaluate(() => {
        const f = document.getElementById('tool-frame') as HTMLIFrameElement;
        f.style.minHeight = '0';
        f.style.boxSizing = 'content-box';
        f.style.height = '600px';
      });
      const frame = await frameOf(lms);
      // The learner looks at the top of the frame, as Moodle shows it (not scrolled).
      expect(await frame.evaluate(() => window.scrollY)).toBe(0);
      // The tool answers the panel's next poll as it does for an expired ltik (a token it refuses).
      await context.route('**/lti/api/status', (route) => route.continue({ headers: { ...route.request().headers(), authorization: 'Bearer expired.ltik.token' } }));
      await frame.waitForSelector('#session-expired:not([hidden])', { timeout: 20_000 });
      const box = await frame.evaluate(() => {
        const el = document.getElementById('session-expired')!;
        const r = el.getBoundingClientRect();
        return { top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, height: window.innerHeight, role: el.getAttribute('role'), focused: document.activeElement === el, text: el.textContent ?? '' };
      });
      expect(box.height).toBe(600);
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.bottom).toBeLessThanOrEqual(600);
      expect(box.role).toBe('alert');
      expect(box.focused).toBe(true);
      expect(box.text).toContain('Tu sesión en Asistencia SENCE expiró');
      await lms.screenshot({ path: shot('issue20-12-session-expired-600') });
      await context.unroute('**/lti/api/status');
    } finally {
      await browser.close();
    }
  }, 120_000);
});
