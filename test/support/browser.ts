/**
 * Real Chromium for what a person sees: Debian's /usr/bin/chromium driven by playwright-core, with
 * the flags this workplace needs and a fresh user-data dir per run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { projectRoot } from '../../src/paths';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(projectRoot, 'test-output', 'screenshots');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export type ThirdPartyCookies = 'blocked' | 'allowed';

/**
 * A fresh profile. `blocked` writes the preferences of Chromium's own default (and of Safari and
 * every iPhone browser): third-party cookies blocked. Prove it with thirdPartyCookiesProbe().
 */
export async function openBrowser(opts: { thirdPartyCookies?: ThirdPartyCookies } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'sence-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const blocked = (opts.thirdPartyCookies ?? 'blocked') === 'blocked';
  mkdirSync(path.join(userDataDir, 'Default'), { recursive: true });
  writeFileSync(
    path.join(userDataDir, 'Default', 'Preferences'),
    JSON.stringify({ profile: blocked ? { cookie_controls_mode: 1, block_third_party_cookies: true } : { cookie_controls_mode: 0, block_third_party_cookies: false } }),
  );
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
    // The element tells the LMS page it was clicked (postMessage survives the frame navigating away,
    // as a form button does), so a click is known to have landed even when it changes the page.
    const token = `click-${attempt}-${Math.random().toString(36).slice(2)}`;
    await page.evaluate(() => {
      const w = window as unknown as { __toolClicks?: Set<string> };
      if (!w.__toolClicks) {
        const clicks = new Set<string>();
        w.__toolClicks = clicks;
        window.addEventListener('message', (e) => {
          const d = e.data as { __toolClick?: unknown } | null;
          if (d && typeof d === 'object' && typeof d.__toolClick === 'string') clicks.add(d.__toolClick);
        });
      }
    });
    const target = await frame.evaluate(({ sel, t }) => {
      const el = document.querySelector(sel) as HTMLElement;
      el.addEventListener('click', () => window.parent.postMessage({ __toolClick: t }, '*'), { once: true });
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, { sel: selector, t: token });
    // After scrolling (scrollIntoView also scrolls the LMS page), find where the frame's content starts.
    const origin = await page.evaluate(() => {
      const f = document.querySelector('iframe#tool-frame') as HTMLIFrameElement;
      const r = f.getBoundingClientRect();
      return { x: r.left + f.clientLeft, y: r.top + f.clientTop };
    });
    await page.mouse.click(origin.x + target.x, origin.y + target.y);
    // The panel may have reloaded itself (its status poll) between measuring and clicking: check
    // that the click reached the element, and try again if it did not.
    const arrived = () =>
      page
        .waitForFunction((t) => (window as unknown as { __toolClicks?: Set<string> }).__toolClicks?.has(t) === true, token, { timeout: 5000 })
        .then(() => true)
        .catch(() => false);
    if (await arrived()) return;
    if (attempt >= 2) {
      // Two real clicks went astray. Only a problem a person would have if something covers the
      // element or it is disabled: check that where it is, it is what the point hits, then press it
      // from inside the frame (the mapping of frame to page coordinates is what missed; seen under
      // load in headless Chromium, never by hand).
      const state = await frame.evaluate((sel) => {
        const el = document.querySelector(sel) as HTMLButtonElement | null;
        if (!el) return { ok: false, why: 'gone' };
        if (el.disabled) return { ok: false, why: 'disabled' };
        el.scrollIntoView({ block: 'center' });
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!hit || (hit !== el && !el.contains(hit))) return { ok: false, why: `covered by ${hit ? hit.outerHTML.slice(0, 120) : 'nothing'}` };
        el.click();
        return { ok: true, why: '' };
      }, selector);
      if (!state.ok) throw new Error(`the click on ${selector} in the tool frame did not reach it (${state.why})`);
      console.warn(`clickInToolFrame: two real clicks on ${selector} missed; nothing covers it, pressed from inside the frame`);
      if (await arrived()) return;
      if (attempt >= 3) throw new Error(`the click on ${selector} in the tool frame did not reach it`);
    }
  }
}

/**
 * Proves what the profile does with third-party cookies: a page on http://127.0.0.1 frames
 * http://localhost (another site), which sets a `SameSite=None; Secure` cookie and then reads back
 * what the browser sent. Returns 'blocked' when the cookie did not come back.
 */
export async function thirdPartyCookiesProbe(context: BrowserContext): Promise<ThirdPartyCookies> {
  const server = http.createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    if (req.url === '/embed') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><iframe id="probe" src="http://localhost:${port}/set"></iframe>`);
    } else if (req.url === '/set') {
      res.writeHead(302, { 'set-cookie': 'probe=1; SameSite=None; Secure; Path=/', location: '/read' }).end();
    } else if (req.url === '/read') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><p id="cookie">${/probe=1/.test(req.headers.cookie ?? '') ? 'sent' : 'not-sent'}</p>`);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const page = await context.newPage();
  try {
    const port = (server.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/embed`);
    const frame = await (await page.waitForSelector('iframe#probe')).contentFrame();
    if (!frame) throw new Error('probe frame missing');
    await frame.waitForSelector('#cookie');
    return (await frame.textContent('#cookie')) === 'sent' ? 'allowed' : 'blocked';
  } finally {
    await page.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
