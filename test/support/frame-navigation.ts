/**
 * A real mouse click on a link inside the LMS iframe that loads another page of the tool
 * (test/support/browser.ts's clickInToolFrame checks that the click reached an element of the same
 * document, which a navigation replaces). Waits for the next document to show `waitFor`. A click
 * that did not navigate (the layout moved under the pointer) is tried again; the last try clicks the
 * element itself.
 */
import type { Frame, Page } from 'playwright-core';

export async function toolFrameOf(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe#tool-frame');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('no tool frame');
  return frame;
}

async function waitForNewDocument(page: Page, marker: string, waitFor: string, ms: number): Promise<Frame | null> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const next = await toolFrameOf(page);
    const state = await next
      .evaluate(([mark, sel]) => ({ same: (window as unknown as { __marker?: string }).__marker === mark, ready: document.readyState === 'complete' && document.querySelector(sel!) !== null }), [marker, waitFor])
      .catch(() => ({ same: false, ready: false }));
    if (!state.same && state.ready) return next;
    await page.waitForTimeout(100);
  }
  return null;
}

export async function followInToolFrame(page: Page, selector: string, waitFor: string): Promise<Frame> {
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const frame = await toolFrameOf(page);
    await frame.waitForLoadState('load');
    await frame.waitForSelector(selector, { state: 'attached' });
    const marker = `nav-${Date.now()}-${Math.random()}`;
    const target = await frame.evaluate(([sel, mark]) => {
      (window as unknown as { __marker?: string }).__marker = mark;
      const el = document.querySelector(sel!) as HTMLElement;
      el.scrollIntoView({ block: 'center' });
      // A link that wraps over two lines has a gap in the middle of its bounding box: aim at its first line.
      const r = el.getClientRects()[0] ?? el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, [selector, marker]);
    if (attempt < 3) {
      const origin = await page.evaluate(() => {
        const f = document.querySelector('iframe#tool-frame') as HTMLIFrameElement;
        const r = f.getBoundingClientRect();
        return { x: r.left + f.clientLeft, y: r.top + f.clientTop };
      });
      await page.mouse.click(origin.x + target.x, origin.y + target.y);
    } else {
      await frame.evaluate((sel) => (document.querySelector(sel) as HTMLElement).click(), selector);
    }
    const next = await waitForNewDocument(page, marker, waitFor, 5000);
    if (next) return next;
  }
  const now = await toolFrameOf(page);
  const text = await now.evaluate(() => document.body?.innerText.slice(0, 300) ?? '').catch(() => '');
  throw new Error(`clicking ${selector} in the tool frame did not lead to a page with ${waitFor} (frame shows: ${text})`);
}
