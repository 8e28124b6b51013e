/**
 * The learner's panel in real Chromium (issue #20 §9–12), the LMS simulator on another site and the
 * tool in its iframe with third-party cookies blocked, as in learner-journey.test.ts (a file of its
 * own: ltijs allows one system per process, and these journeys need fresh learners and a clock).
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { chromiumAvailable, clickInToolFrame, openBrowser, shot } from '../support/browser';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { DEMO_CLAVEUNICA_PASSWORD } from '../../src/simulators/sence';

const canRun = chromiumAvailable() || process.env.CI === 'true';
if (!canRun) console.warn('browser tests: NOT RUN — /usr/bin/chromium is missing (apt-get install -y chromium). CI installs it and runs them.');
const describeIfChromium = canRun ? describe : describe.skip; // skipped only when Chromium is absent outside CI (reason above)

const ANA = { run: '12345678-5' };
const CAMILA = { run: '9876543-3' };

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
