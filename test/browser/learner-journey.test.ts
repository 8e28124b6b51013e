/**
 * What a learner sees, in real Chromium: open the LMS simulator, launch as Ana, see the panel with
 * its progress bar and accredited time; open a SENCE session (new window, stand-in ClaveÚnica), see
 * "Asistencia correctamente ingresada", close it, and see the accredited time grow in the panel.
 * Screenshots go to test-output/screenshots/.
 */
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { chromiumAvailable, clickInToolFrame, openBrowser, shot } from '../support/browser';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { DEMO_CLAVEUNICA_PASSWORD } from '../../src/simulators/sence';

// Without Chromium there is nothing to drive. CI installs it (.ci/run), so there it must exist;
// on a developer machine without it, say so loudly instead of failing on a missing package.
const canRun = chromiumAvailable() || process.env.CI === 'true';
if (!canRun) {
  console.warn('browser tests: NOT RUN — /usr/bin/chromium is missing (apt-get install -y chromium). CI installs it and runs them.');
}
const describeIfChromium = canRun ? describe : describe.skip; // skipped only when Chromium is absent outside CI (reason above)

let sys: TestSystem;
let browser: Awaited<ReturnType<typeof openBrowser>>;
let context: BrowserContext;
let clock = Date.now();

describeIfChromium('learner journey in Chromium', () => {
  beforeAll(async () => {
    sys = await startTestSystem({}, { now: () => new Date(clock) });
    sys.sence!.setClock(() => new Date(clock));
    browser = await openBrowser();
    context = browser.context;
  });
  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  const toolFrame = async (page: Page): Promise<Frame> => {
    const handle = await page.waitForSelector('iframe#tool-frame');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('no tool frame');
    return frame;
  };

  async function claveUnica(win: Page) {
    await win.waitForSelector('text=Portal de Aplicaciones Sence');
    await win.getByLabel('Ingresa tu RUN').fill('12345678-5');
    await win.getByLabel('Ingresa tu Clave').fill(DEMO_CLAVEUNICA_PASSWORD);
    await win.getByRole('button', { name: 'Continuar' }).click();
  }

  it('launches as the demo learner and shows the panel with progress bar and accredited time', async () => {
    const page = await context.newPage();
    await page.goto(sys.lms!.url);
    await page.getByRole('link', { name: /Ana Pérez/ }).or(page.getByRole('button', { name: /Ana Pérez/ })).first().click();
    const frame = await toolFrame(page);
    await frame.waitForSelector('text=TIEMPO ACREDITADO EN SENCE: 0 hora(s) y 0 minuto(s)');
    expect(await frame.locator('progress#progress').isVisible()).toBe(true);
    expect(await frame.locator('progress#progress').getAttribute('value')).toBe('0');
    expect(await frame.locator('#open-button').textContent()).toBe('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
    expect(await frame.locator('#open-button').isEnabled()).toBe(true);
    await page.screenshot({ path: shot('01-panel-in-lms'), fullPage: true });
    // Phone width: the panel still fits without horizontal scrolling.
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await frame.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: shot('02-panel-phone-width'), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  it('opens a SENCE session in a new window, then closes it, and the accredited time grows', async () => {
    const page = context.pages().at(-1)!;
    const [win] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(page, '#open-button')]);
    await claveUnica(win);
    await win.waitForSelector('text=Asistencia correctamente ingresada');
    expect(await win.locator('#session-timer').textContent()).toMatch(/^0:00:0\d$/);
    expect(await win.getByRole('button', { name: 'Cerrar Sesión Sence' }).isVisible()).toBe(true);
    expect(await win.getByRole('button', { name: 'Cerrar ventana' }).isVisible()).toBe(true);
    await win.screenshot({ path: shot('03-sence-window-session-open'), fullPage: true });

    // The panel in the LMS updates by itself: the close button and the green clock appear.
    const panel = await toolFrame(page);
    await panel.waitForSelector('text=CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE', { timeout: 15_000 });
    await panel.waitForSelector('text=MARCA DE ACCESO EN SENCE ACREDITADA PREVIAMENTE');
    expect(await panel.locator('#clock').getAttribute('class')).toContain('clock-ok');
    await page.screenshot({ path: shot('04-panel-session-open'), fullPage: true });

    // 1 h 5 min later (server clock), the learner closes from the SENCE window.
    clock += 65 * 60_000;
    await win.getByRole('button', { name: 'Cerrar Sesión Sence' }).click();
    await claveUnica(win);
    await win.waitForSelector('text=Sesión correctamente cerrada');
    await win.screenshot({ path: shot('05-sence-window-session-closed'), fullPage: true });

    const after = await toolFrame(page);
    await after.waitForSelector('text=TIEMPO ACREDITADO EN SENCE: 1 hora(s) y 5 minuto(s)', { timeout: 15_000 });
    expect(await after.locator('progress#progress').getAttribute('value')).toBe('5');
    await page.screenshot({ path: shot('06-panel-time-accredited'), fullPage: true });
  });
});
