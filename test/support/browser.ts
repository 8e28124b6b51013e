/**
 * Real Chromium for what a person sees: Debian's /usr/bin/chromium driven by playwright-core, with
 * the flags this workplace needs and a fresh user-data dir per run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { projectRoot } from '../../src/paths';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(projectRoot, 'test-output', 'screenshots');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'sence-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    locale: 'es-CL',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export const shot = (name: string) => path.join(SCREENSHOTS, `${name}.png`);

/**
 * A real mouse click on an element inside the LMS iframe. (playwright-core's element actions inside
 * frames fail against Debian's Chromium 156 with "Object not disposable", so we compute the point and
 * click with the page's mouse, as a person would.)
 */
export async function clickInToolFrame(page: import('playwright-core').Page, selector: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const frameEl = await page.waitForSelector('iframe#tool-frame');
    const frame = await frameEl.contentFrame();
    if (!frame) throw new Error('no tool frame');
    await frame.waitForLoadState('load');
    await frame.waitForSelector(selector);
    const target = await frame.evaluate((sel) => {
      const el = document.querySelector(sel) as HTMLElement;
      (window as unknown as { __clicked?: boolean }).__clicked = false;
      el.addEventListener('click', () => ((window as unknown as { __clicked?: boolean }).__clicked = true), { once: true });
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, selector);
    // After scrolling (scrollIntoView also scrolls the LMS page), find where the frame's content starts.
    const origin = await page.evaluate(() => {
      const f = document.querySelector('iframe#tool-frame') as HTMLIFrameElement;
      const r = f.getBoundingClientRect();
      return { x: r.left + f.clientLeft, y: r.top + f.clientTop };
    });
    await page.mouse.click(origin.x + target.x, origin.y + target.y);
    // The panel may have reloaded itself (its status poll) between measuring and clicking: check
    // that the click reached the element, and try again if it did not.
    const landed = await frame.evaluate(() => (window as unknown as { __clicked?: boolean }).__clicked === true).catch(() => false);
    if (landed) return;
    if (attempt >= 3) throw new Error(`the click on ${selector} in the tool frame did not reach it`);
  }
}
