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
import { shortDuration } from '../../src/web/report-view';
import { writeFileSync } from 'node:fs';
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
        await staff.tool.waitForSelector('text=Ingresó como parte del equipo docente');
        await staff.click('#nav-settings');
        await staff.tool.waitForSelector('h1:has-text("Configuración SENCE del curso")');
        // The course report (issue #20: the old "Sesiones" page is gone; the report holds what it showed).
        await staff.click('#nav-report');
        await staff.tool.waitForSelector('#report-table');
        const table = (await staff.tool.locator('#report-table').textContent()) ?? '';
        expect(table).toContain(j.learner.name);
        expect(table).toContain(shortDuration(now * 60));
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

