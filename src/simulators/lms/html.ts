/**
 * HTML for the simulator's pages: one escaping function, a tagged template that escapes every
 * interpolated value (only `SafeHtml` produced by `html` itself passes through), one page layout,
 * one auto-posting form, and the Content-Security-Policy that goes with them.
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(v);
}

/** Tagged template: `html\`<p>${name}</p>\`` escapes `name`; nested `html` fragments and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

export function newCspNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Origin of a URL (scheme://host:port), for CSP source lists. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  nonce: string;
  /** Extra origins forms on this page may post to (besides 'self'). */
  formTargets?: string[];
  /** Origins this page may frame. */
  frameTargets?: string[];
  /** Inline script, run with the page's nonce. Must not contain untrusted text. */
  script?: string;
}

/**
 * CSP: nothing by default; inline <style>/<script> only with this response's nonce; forms only to
 * 'self' and the tool; frames only of the tool; framed only by the simulator itself (the /auth and
 * /deep-linking/return pages run inside the course page's iframe).
 */
export function contentSecurityPolicy(o: { nonce: string; formTargets?: string[]; frameTargets?: string[] }): string {
  const uniq = (xs: string[]): string => [...new Set(xs)].join(' ');
  const directives = [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    `style-src 'nonce-${o.nonce}'`,
    "img-src 'self' data:",
    `form-action ${uniq(["'self'", ...(o.formTargets ?? [])])}`,
    `frame-src ${o.frameTargets && o.frameTargets.length > 0 ? uniq(o.frameTargets) : "'none'"}`,
    "frame-ancestors 'self'",
    "base-uri 'none'",
  ];
  return directives.join('; ');
}

const STYLE = `
:root { color-scheme: light; --accent: #5b2a86; --muted: #555; --border: #c9c9d3; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.45; color: #1d1d1f; background: #f6f6f9; }
.banner { background: #fff4c2; border-bottom: 2px solid #e0c200; padding: .5rem 1rem; font-weight: 600; }
header.site { background: var(--accent); color: #fff; padding: .75rem 1rem; }
header.site a { color: #fff; }
main { max-width: 64rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; margin: .25rem 0 .75rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
.card { background: #fff; border: 1px solid var(--border); border-radius: .5rem; padding: 1rem; margin: 0 0 1rem; }
.muted { color: var(--muted); font-size: .92rem; }
ul.users { list-style: none; padding: 0; margin: 0; }
ul.users li { border-top: 1px solid var(--border); padding: .75rem 0; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; justify-content: space-between; }
ul.users li:first-child { border-top: 0; }
button, .button { font: inherit; font-size: 1rem; min-height: 2.75rem; padding: .5rem 1rem; border-radius: .4rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button:focus-visible, .button:focus-visible, a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
form.inline { display: inline; margin: 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; }
iframe#tool-frame { width: 100%; height: 75vh; min-height: 32rem; border: 1px solid var(--border); border-radius: .5rem; background: #fff; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.kv dt { font-weight: 600; }
dl.kv dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; border-bottom: 1px solid var(--border); padding: .35rem .5rem; overflow-wrap: anywhere; }
.error { border-color: #b00020; }
.error h1 { color: #b00020; }
@media (max-width: 30rem) { main { padding: .5rem; } iframe#tool-frame { min-height: 28rem; } dl.kv { grid-template-columns: 1fr; } }
`;

export const SIMULATOR_BANNER = 'Simulador de LMS (no es un LMS real)';

export function renderPage(o: PageOptions): string {
  const doc = html`<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title} · ${SIMULATOR_BANNER}</title>
<style nonce="${o.nonce}">${new SafeHtml(STYLE)}</style>
</head>
<body>
<div class="banner" role="note">${SIMULATOR_BANNER}</div>
${o.body}
${o.script ? html`<script nonce="${o.nonce}">${new SafeHtml(o.script)}</script>` : ''}
</body>
</html>
`;
  return doc.value;
}

/** Sends an HTML page with its CSP and the usual hardening headers. */
export function sendPage(res: Response, status: number, o: Omit<PageOptions, 'nonce'>): void {
  const nonce = newCspNonce();
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': contentSecurityPolicy({ nonce, formTargets: o.formTargets, frameTargets: o.frameTargets }),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    .send(renderPage({ ...o, nonce }));
}

/** A 4xx page in Spanish naming the problem. */
export function sendErrorPage(res: Response, status: number, title: string, problem: string, hint?: string): void {
  sendPage(res, status, {
    title,
    body: html`<main><section class="card error" aria-labelledby="err-title">
<h1 id="err-title">${title}</h1>
<p id="problem">${problem}</p>
${hint ? html`<p class="muted">${hint}</p>` : ''}
<p><a href="/">Volver al inicio del simulador</a></p>
</section></main>`,
  });
}

/**
 * A form that posts `fields` to `action`, optionally on load (inline script run with the page nonce).
 * The button is always there for users without JavaScript (`button: 'noscript'`), or always visible.
 * Every value is escaped.
 */
export function postForm(o: {
  id: string;
  action: string;
  fields: Record<string, string>;
  target?: string;
  buttonLabel: string;
  autoSubmit: boolean;
  button: 'visible' | 'noscript';
}): { form: SafeHtml; script: string | undefined } {
  const inputs = Object.entries(o.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  const button = html`<button type="submit">${o.buttonLabel}</button>`;
  const form = html`<form id="${o.id}" class="inline" method="post" action="${o.action}"${o.target ? html` target="${o.target}"` : ''}>
${inputs}
${o.button === 'noscript' ? html`<noscript>${button}</noscript>` : button}
</form>`;
  // The id is a fixed identifier of ours, never user input; JSON.stringify keeps it a JS string literal.
  const script = o.autoSubmit ? `document.getElementById(${JSON.stringify(o.id)}).submit();` : undefined;
  return { form, script };
}

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' })[e] ?? _m);
}

/**
 * Reads back the first post form of a page this module rendered (action and hidden fields). Only
 * meant for our own markup, whose attributes are always double-quoted and escaped.
 */
export function parseAutoPostForm(page: string): { action: string | null; fields: Record<string, string> } {
  const formMatch = /<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(page);
  if (!formMatch) return { action: null, fields: {} };
  const fields: Record<string, string> = {};
  for (const m of (formMatch[2] ?? '').matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(m[1] ?? '')] = unescapeHtml(m[2] ?? '');
  }
  return { action: unescapeHtml(formMatch[1] ?? ''), fields };
}
