/**
 * Issue #20 §7: accessibility measured, not assumed. axe-core runs inside real Chromium on every page
 * of the tool a person reaches — learner (panel, SENCE result pages for a start, a close and an error,
 * the "platform storage blocked" page) and staff (home, settings and a failed save, audit, actions and
 * an upload's result, report, a learner's page), plus the public pages (`/`, `/setup`, an error page,
 * the dynamic registration's "Registro completado") — at desktop (1200 px) and phone (390 px) width.
 * Any serious or critical violation fails the test and is printed readably (rule, help, where).
 *
 * The shape is the real one: the LMS simulator (http://127.0.0.1:…) frames the tool
 * (http://localhost:…, another site) and the profile blocks third-party cookies. Framed pages are
 * measured inside the frame, at the width the LMS page gives them.
 *
 * Also here, because they are measured in the browser: after a failed save of the settings the focus
 * is on the error summary (§7), and `/setup` does not overflow horizontally (§16).
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { chromiumAvailable, clickInToolFrame, openBrowser } from '../support/browser';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { launchAs } from '../support/lti-flow';
import { senceRoundTrip } from '../support/sence-flow';
import { followInToolFrame, toolFrameOf } from '../support/frame-navigation';
import { DEMO_CLAVEUNICA_PASSWORD } from '../../src/simulators/sence';
import { startLmsSimulator, DEMO_USERS, type LmsSimulator } from '../../src/simulators/lms';
import { toolUrls } from '../../src/lti/tool-urls';
import { createInvite } from '../../src/application/registration-invites';

const canRun = chromiumAvailable() || process.env.CI === 'true';
if (!canRun) {
  console.warn('browser tests: NOT RUN — /usr/bin/chromium is missing (apt-get install -y chromium). CI installs it and runs them.');
}
const describeIfChromium = canRun ? describe : describe.skip; // skipped only when Chromium is absent outside CI (reason above)

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WIDTHS = [1200, 390] as const;

interface Finding {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string; summary: string }[];
}

/**
 * axe-core's serious and critical violations in one document. The script is evaluated through the
 * DevTools protocol, which the page's Content-Security-Policy does not govern (the tool's CSP allows
 * no inline script, rightly).
 */
async function seriousViolations(target: Page | Frame): Promise<Finding[]> {
  const loaded = await target.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await target.evaluate(AXE_SOURCE);
  return target.evaluate(async () => {
    type AxeNode = { target: unknown[]; failureSummary?: string };
    type AxeViolation = { id: string; impact: string | null; help: string; nodes: AxeNode[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact ?? '',
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.map(String).join(' '), summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 300) })),
      }));
  });
}

function readable(where: string, findings: Finding[]): string {
  return findings
    .map((f) => `${where}: [${f.impact}] ${f.id} — ${f.help}\n${f.nodes.map((n) => `    at ${n.target}: ${n.summary}`).join('\n')}`)
    .join('\n');
}

/**
 * Measures one page at both widths. `page` is the browser tab whose viewport is set; `doc` is where
 * the tool's document is (the tab itself, or the tool frame inside the LMS page, found again after
 * each resize). Returns the readable findings, '' when there are none.
 */
async function measure(name: string, page: Page, doc: () => Promise<Page | Frame>): Promise<string> {
  const out: string[] = [];
  // §8: the tab's title names the tool once ("Asistencia SENCE · Asistencia SENCE" before).
  const title = await (await doc()).evaluate(() => document.title);
  if (title.split('Asistencia SENCE').length !== 2) out.push(`${name}: the title names the tool ${title.split('Asistencia SENCE').length - 1} times: «${title}»`);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150);
    const findings = await seriousViolations(await doc());
    if (findings.length) out.push(readable(`${name} @ ${width}px`, findings));
  }
  await page.setViewportSize({ width: 1200, height: 900 });
  return out.join('\n');
}

describeIfChromium('axe-core on every page of the tool, 1200 px and 390 px, no serious or critical violation', () => {
  let sys: TestSystem;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let context: BrowserContext;
  let staff: Page;

  beforeAll(async () => {
    sys = await startTestSystem();
    // Rows for the report, the audit and the learner page.
    const ana = await launchAs(sys, 'ana');
    await senceRoundTrip(sys, ana.client, ana.ltik, 'start');
    await senceRoundTrip(sys, ana.client, ana.ltik, 'close');
    browser = await openBrowser({ thirdPartyCookies: 'blocked' });
    context = browser.context;
    expect(new URL(sys.lms!.url).hostname).toBe('127.0.0.1');
    expect(new URL(sys.config.publicUrl).hostname).toBe('localhost');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  const inFrame = (page: Page) => () => toolFrameOf(page);

  describe('learner', () => {
    let lms: Page;
    let senceWindow: Page;

    async function claveUnica(win: Page, run: string) {
      await win.waitForSelector('text=Portal de Aplicaciones Sence');
      await win.getByLabel('Ingresa tu RUN').fill(run);
      await win.getByLabel('Ingresa tu Clave').fill(DEMO_CLAVEUNICA_PASSWORD);
      await win.getByRole('button', { name: 'Continuar' }).click();
    }

    it('the panel', async () => {
      lms = await context.newPage();
      await lms.goto(`${sys.lms!.url}/course?user=camila&container=iframe`);
      await (await toolFrameOf(lms)).waitForSelector('#open-button');
      expect(await measure('panel', lms, inFrame(lms))).toBe('');
    }, 60_000);

    it('the SENCE result page after a start', async () => {
      [senceWindow] = await Promise.all([context.waitForEvent('page'), clickInToolFrame(lms, '#open-button')]);
      await claveUnica(senceWindow, '9876543-3');
      await senceWindow.waitForSelector('text=Asistencia correctamente ingresada');
      expect(await measure('SENCE result (start)', senceWindow, async () => senceWindow)).toBe('');
    }, 60_000);

    it('the panel with a session open, and the SENCE result page after a close', async () => {
      await (await toolFrameOf(lms)).waitForSelector('#close-button:not([hidden])', { timeout: 20_000 });
      expect(await measure('panel (session open)', lms, inFrame(lms))).toBe('');
      await clickInToolFrame(lms, '#close-button');
      await claveUnica(senceWindow, '9876543-3');
      await senceWindow.waitForSelector('text=Sesión correctamente cerrada');
      expect(await measure('SENCE result (close)', senceWindow, async () => senceWindow)).toBe('');
    }, 60_000);

    it('the SENCE result page after an error', async () => {
      await (await toolFrameOf(lms)).waitForSelector('#open-button:not([disabled])', { timeout: 20_000 });
      sys.sence!.failNext('208');
      await clickInToolFrame(lms, '#open-button');
      await senceWindow.waitForSelector('#result-title', { timeout: 20_000 });
      await senceWindow.waitForFunction(() => /Error en el inicio/.test(document.querySelector('#result-title')?.textContent ?? ''), undefined, { timeout: 20_000 });
      expect(await measure('SENCE result (error)', senceWindow, async () => senceWindow)).toBe('');
      await senceWindow.close();
      await lms.close();
    }, 60_000);

    it('the page offered when the browser blocks platform storage', async () => {
      const page = await context.newPage();
      await page.goto(`${sys.lms!.url}/course?user=ana&container=iframe&storage=broken`);
      await (await toolFrameOf(page)).waitForSelector('#storage-unavailable:not([hidden])', { timeout: 15_000 });
      expect(await measure('platform storage unavailable', page, inFrame(page))).toBe('');
      await page.close();
    }, 60_000);
  });

  describe('staff, inside the course frame', () => {
    const go = (selector: string, waitFor: string) => followInToolFrame(staff, selector, waitFor);

    it('home', async () => {
      staff = await context.newPage();
      await staff.setViewportSize({ width: 1200, height: 900 });
      await staff.goto(`${sys.lms!.url}/course?user=diego&container=iframe`);
      await (await toolFrameOf(staff)).waitForSelector('#staff-home');
      expect(await measure('staff home', staff, inFrame(staff))).toBe('');
    }, 60_000);

    it('settings', async () => {
      await go('#nav-settings', '#settings-form');
      expect(await measure('settings', staff, inFrame(staff))).toBe('');
    }, 60_000);

    it('settings after a failed save: the focus is on the error summary, which names the problem', async () => {
      const frame = await toolFrameOf(staff);
      await frame.evaluate(() => {
        (document.querySelector('#codSence') as HTMLInputElement).value = '12';
      });
      const next = await go('#save-settings', '#settings-errors');
      await next.waitForFunction(() => document.activeElement?.id === 'settings-errors', undefined, { timeout: 5000 }).catch(() => undefined);
      expect(await next.evaluate(() => document.activeElement?.id ?? document.activeElement?.tagName)).toBe('settings-errors');
      expect(await next.locator('#settings-errors').textContent()).toContain('Corrija lo siguiente');
      expect(await measure('settings (failed save)', staff, inFrame(staff))).toBe('');
    }, 60_000);

    it('audit', async () => {
      await go('#nav-audit', '#audit-table');
      expect(await measure('audit', staff, inFrame(staff))).toBe('');
    }, 60_000);

    it('actions, and the result of an upload with errors', async () => {
      const frame = await go('#nav-actions', '#upload-form');
      expect(await measure('actions', staff, inFrame(staff))).toBe('');
      await frame.evaluate(() => {
        const input = document.querySelector('#archivo') as HTMLInputElement;
        const files = new DataTransfer();
        files.items.add(new File(['RUN;CodigoCurso\r\n9876543-3;ACCION-DOS-0001\r\n9876543-4;ACCION-DOS-0001\r\n'], 'acciones.csv', { type: 'text/csv' }));
        input.files = files.files;
      });
      await go('#upload-submit', '#upload-rows');
      expect(await measure('actions (upload result)', staff, inFrame(staff))).toBe('');
    }, 60_000);

    it('report', async () => {
      await go('#nav-report', '#report-table');
      expect(await measure('report', staff, inFrame(staff))).toBe('');
    }, 60_000);

    it('a learner\'s page', async () => {
      await go('tr[data-sub="ana"] a.learner-link', '#staff-learner');
      expect(await measure('staff learner page', staff, inFrame(staff))).toBe('');
      await staff.close();
    }, 60_000);
  });

  describe('public pages, top level', () => {
    let page: Page;
    beforeAll(async () => {
      page = await context.newPage();
    });
    afterAll(async () => page?.close());

    it('home `/`', async () => {
      await page.goto(`${sys.url}/`);
      expect(await measure('/', page, async () => page)).toBe('');
    }, 60_000);

    it('/setup, which also fits the width (§16: one long command made it 2,454 px wide)', async () => {
      await page.goto(`${sys.url}/setup`);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect({ width, overflow }).toEqual({ width, overflow: 0 });
      }
      expect(await measure('/setup', page, async () => page)).toBe('');
    }, 60_000);

    it('an error page (registration without an invitation)', async () => {
      const res = await page.goto(`${sys.url}/lti/register`);
      expect(res?.status()).toBe(403);
      await page.waitForSelector('#error-title');
      expect(await measure('error page', page, async () => page)).toBe('');
    }, 60_000);

    it('the dynamic registration\'s "Registro completado"', async () => {
      const urls = toolUrls(sys.config.publicUrl);
      let other: LmsSimulator | null = null;
      try {
        other = await startLmsSimulator({ port: 0, clientId: 'cliente-a11y', users: DEMO_USERS, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
        const { code } = await createInvite(sys.stores, { name: 'Moodle accesible', hours: 24, now: new Date() });
        await page.goto(other.startDynamicRegistration(`${sys.config.publicUrl}/lti/register?invite=${code}`));
        await page.waitForSelector('#dynreg-done');
        expect(await measure('dynreg done', page, async () => page)).toBe('');
      } finally {
        await other?.close();
      }
    }, 60_000);
  });
});
