/**
 * HTML rendering for the SENCE emulator. Every page carries the NOT-SENCE banner and every
 * interpolated value goes through escapeHtml. Inline <style>/<script> are allowed by a per-response
 * CSP nonce (see index.ts).
 */

export const NOT_SENCE_BANNER =
  'Emulador de SENCE para demostraciones y pruebas — esto NO es SENCE. Nada de lo que hagas aquí se registra en SENCE.';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes a value for HTML text and (double- or single-quoted) attribute contexts. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c);
}

const STYLES = `
*{box-sizing:border-box}
html{font-size:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;line-height:1.5;color:#1b1b1b;background:#f3f5f8}
.emu-banner{margin:0;padding:.75rem 1rem;background:#ffd400;color:#111;border-bottom:4px solid #111;font-weight:700;text-align:center}
.emu-banner p{margin:0;max-width:40rem;margin-inline:auto}
main{max-width:32rem;margin:1.5rem auto;padding:0 1rem}
main.wide{max-width:52rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:.5rem;padding:1.25rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h1{font-size:1.35rem;margin:.25rem 0 .5rem}
h2{font-size:1.1rem;margin:1.25rem 0 .5rem}
.brand{font-weight:700;color:#0b3d91;letter-spacing:.02em;margin:0}
.sub{margin:0 0 1rem;color:#444}
.context{font-size:.875rem;color:#444;background:#eef2f7;border-radius:.375rem;padding:.5rem .75rem;margin:0 0 1rem;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;font-size:1rem;padding:.65rem .75rem;border:1px solid #6b7280;border-radius:.375rem}
input:focus,button:focus,a:focus{outline:3px solid #ffbf47;outline-offset:2px}
button{display:block;width:100%;margin-top:1.25rem;font-size:1rem;font-weight:700;padding:.75rem;border:0;border-radius:.375rem;background:#0b3d91;color:#fff;cursor:pointer}
.alert{background:#fde2e4;color:#7a0010;border:1px solid #f5a3ab;border-radius:.375rem;padding:.6rem .75rem;margin:0 0 .75rem;font-weight:600}
.hint{font-size:.875rem;color:#444;margin:.75rem 0 0}
.links{margin-top:1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;font-size:.95rem}
a{color:#0b3d91}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;border-bottom:1px solid #d0d7de;padding:.35rem .4rem;vertical-align:top}
.code{font-size:2rem;font-weight:800;margin:.25rem 0}
`;

export interface PageOptions {
  title: string;
  nonce: string;
  body: string;
  wide?: boolean;
  /** Extra inline script (already trusted, no interpolated user data). */
  script?: string;
}

/** Full HTML document with the NOT-SENCE banner. `body` must already be escaped. */
export function renderPage(options: PageOptions): string {
  const nonce = escapeHtml(options.nonce);
  const script = options.script ? `\n<script nonce="${nonce}">${options.script}</script>` : '';
  return `<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(options.title)} · Emulador SENCE (no es SENCE)</title>
<style nonce="${nonce}">${STYLES}</style>
</head>
<body>
<div class="emu-banner" role="note" aria-label="Aviso: emulador"><p>${escapeHtml(NOT_SENCE_BANNER)}</p></div>
<main${options.wide ? ' class="wide"' : ''}>
${options.body}
</main>${script}
</body>
</html>
`;
}

/**
 * Browser POST to the OTEC (UrlRetoma / UrlError): a form of hidden inputs that auto-submits with
 * an inline (nonce'd) script, with a visible "Continuar" button for browsers without JavaScript.
 */
export function renderAutoPost(options: {
  nonce: string;
  action: string;
  fields: Array<[string, string]>;
  heading: string;
  summary: string;
}): string {
  const inputs = options.fields
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const body = `<div class="card">
<h1>${escapeHtml(options.heading)}</h1>
<p>${escapeHtml(options.summary)}</p>
<p class="context">Enviando el resultado por POST a <span class="mono">${escapeHtml(options.action)}</span></p>
<form id="emu-autopost" method="post" action="${escapeHtml(options.action)}">
${inputs}
<noscript><button type="submit">Continuar</button></noscript>
</form>
</div>`;
  return renderPage({
    title: options.heading,
    nonce: options.nonce,
    body,
    script: "document.getElementById('emu-autopost').submit();",
  });
}
