/**
 * The browser side of the simulated LMS: a home page (course, users, registration data, what the
 * tool sent back) and a course page that embeds the tool in an iframe and starts the LTI launch
 * with a third-party initiated login (OIDC) posted into that iframe.
 */
import type { Request, Response } from 'express';
import { findUser, PLATFORM_STORAGE_TARGET, toolOrigins, type SimContext } from './context';
import { sendErrorPage, sendPage, html, postForm, type SafeHtml } from './html';
import type { LaunchContainer, LtiMessageType, PlatformStorageMode, SimUser } from './types';
import { PLATFORM_STORAGE_SCRIPT } from './platform-storage';

export function roleLabel(user: SimUser): string {
  return user.role === 'instructor' ? 'Docente' : 'Estudiante';
}

/** How this user's RUN reaches the tool, in words, for the demo operator. */
function runNote(user: SimUser): string {
  if (user.customRut !== null && user.customRut.startsWith('$')) {
    return `Parámetro personalizado rut sin configurar: llega literalmente «${user.customRut}».`;
  }
  if (user.customRut !== null) return `RUT por parámetro personalizado rut: ${user.customRut}.`;
  if (user.sourcedId !== '') return `RUN en el número de ID del LMS (lis.person_sourcedid): ${user.sourcedId}.`;
  return 'El LMS no envía RUT.';
}

function header(ctx: SimContext): SafeHtml {
  return html`<header class="site"><a href="/">Inicio del simulador</a> · <span>${ctx.course.label}</span></header>`;
}

export function homePage(ctx: SimContext) {
  return (_req: Request, res: Response): void => {
    const users = ctx.users.map(
      (u) => html`<li>
<div><strong>${u.name}</strong> <span class="muted">(${roleLabel(u)})</span><br><span class="muted">${runNote(u)}</span></div>
<form class="inline" method="get" action="/course"><input type="hidden" name="user" value="${u.id}"><button type="submit">Entrar como ${u.name}</button></form>
</li>`,
    );
    const scores =
      ctx.scores.length === 0
        ? html`<p class="muted">Todavía no llegan calificaciones.</p>`
        : html`<table><caption class="muted">Puntajes recibidos por el servicio de calificaciones (AGS), en orden</caption>
<thead><tr><th scope="col">Usuario</th><th scope="col">Puntaje</th><th scope="col">Estado</th><th scope="col">Fecha</th></tr></thead>
<tbody>${ctx.scores.map(
            (s) => html`<tr><td>${findUser(ctx, s.userId)?.name ?? s.userId}</td><td>${s.scoreGiven ?? '—'} / ${s.scoreMaximum ?? '—'}</td><td>${s.activityProgress ?? ''} ${s.gradingProgress ?? ''}</td><td>${s.timestamp ?? ''}</td></tr>`,
          )}</tbody></table>`;
    const links =
      ctx.deepLinkResponses.length === 0
        ? html`<p class="muted">Ninguna todavía.</p>`
        : html`<ul>${ctx.deepLinkResponses.map((r) => html`<li>${titlesOf(r.items).join(', ') || '(sin título)'} <span class="muted">${r.receivedAt.toISOString()}</span></li>`)}</ul>`;
    sendPage(res, 200, {
      title: 'Inicio',
      body: html`${header(ctx)}<main>
<h1>${ctx.course.title}</h1>
<section class="card" aria-labelledby="users-title">
<h2 id="users-title">Entrar al curso</h2>
<p class="muted">Elija una persona: el simulador abre el curso y lanza Asistencia SENCE con LTI 1.3, como lo haría Moodle.</p>
<ul class="users">${users}</ul>
</section>
<section class="card" aria-labelledby="reg-title">
<h2 id="reg-title">Datos para registrar esta plataforma en la herramienta</h2>
<dl class="kv">
<dt>Emisor (iss)</dt><dd>${ctx.url}</dd>
<dt>Client ID</dt><dd>${ctx.clientId}</dd>
<dt>Deployment ID</dt><dd>${ctx.deploymentId}</dd>
<dt>Autorización (OIDC)</dt><dd>${ctx.url}/auth</dd>
<dt>Token de acceso</dt><dd>${ctx.url}/token</dd>
<dt>Claves públicas (JWKS)</dt><dd>${ctx.url}/jwks</dd>
<dt>Inicio de sesión de la herramienta</dt><dd>${ctx.tool.loginUrl}</dd>
<dt>URL de lanzamiento</dt><dd>${ctx.tool.launchUrl}</dd>
</dl>
</section>
<section class="card" aria-labelledby="scores-title">
<h2 id="scores-title">Calificaciones recibidas</h2>
${scores}
</section>
<section class="card" aria-labelledby="dl-title">
<h2 id="dl-title">Actividades agregadas con el selector de contenido</h2>
${links}
</section>
</main>`,
    });
  };
}

export function titlesOf(items: unknown[]): string[] {
  return items
    .map((i) => (i && typeof i === 'object' && typeof (i as { title?: unknown }).title === 'string' ? (i as { title: string }).title : ''))
    .filter((t) => t !== '');
}

/** Fields of the third-party initiated login the platform posts to the tool's login URL. */
export function loginInitiationFields(ctx: SimContext, user: SimUser, messageType: LtiMessageType, storage: PlatformStorageMode = 'off'): Record<string, string> {
  const targetLinkUri = messageType === 'LtiDeepLinkingRequest' ? (ctx.tool.deepLinkUrl ?? ctx.tool.launchUrl) : ctx.tool.launchUrl;
  const withStorage = storage !== 'off';
  return {
    iss: ctx.url,
    login_hint: user.id,
    target_link_uri: targetLinkUri,
    client_id: ctx.clientId,
    lti_message_hint: ctx.hints.issue({ userId: user.id, messageType, contextId: ctx.course.contextId, platformStorage: withStorage }),
    lti_deployment_id: ctx.deploymentId,
    ...(withStorage ? { lti_storage_target: PLATFORM_STORAGE_TARGET } : {}),
  };
}

const STORAGE_LABELS: Record<PlatformStorageMode, string> = {
  off: 'sin almacenamiento de plataforma (como Moodle 4.5)',
  on: 'con almacenamiento de plataforma (como Canvas)',
  broken: 'almacenamiento anunciado pero bloqueado (navegador que bloquea todo)',
};

function launchChoice(req: Request): { container: LaunchContainer; storage: PlatformStorageMode } {
  const container = req.query.container === 'window' ? 'window' : 'iframe';
  const s = req.query.storage;
  // A new window is top-level: first-party, no platform storage needed (Moodle's "New window").
  const storage: PlatformStorageMode = container === 'window' ? 'off' : s === 'on' || s === 'broken' ? s : 'off';
  return { container, storage };
}

export function coursePage(ctx: SimContext) {
  return (req: Request, res: Response): void => {
    const userId = req.query.user;
    if (typeof userId !== 'string' || userId === '') {
      sendErrorPage(res, 400, 'Falta el usuario', 'Indique con qué usuario entrar al curso (parámetro user).');
      return;
    }
    const user = findUser(ctx, userId);
    if (!user) {
      sendErrorPage(res, 404, 'Usuario desconocido', `No hay ningún usuario «${userId}» en este simulador.`);
      return;
    }
    const { container, storage } = launchChoice(req);
    const inFrame = container === 'iframe';
    const launch = postForm({
      id: 'lti-launch',
      action: ctx.tool.loginUrl,
      fields: loginInitiationFields(ctx, user, 'LtiResourceLinkRequest', storage),
      target: inFrame ? 'tool-frame' : '_blank',
      buttonLabel: inFrame ? 'Abrir de nuevo Asistencia SENCE' : 'Abrir Asistencia SENCE en una ventana nueva',
      // A new window needs the person's click (browsers block pop-ups opened by a script).
      autoSubmit: inFrame,
      button: 'visible',
    });
    const deepLink =
      user.role === 'instructor'
        ? postForm({
            id: 'lti-deep-link',
            action: ctx.tool.loginUrl,
            fields: loginInitiationFields(ctx, user, 'LtiDeepLinkingRequest', storage),
            target: inFrame ? 'tool-frame' : '_blank',
            buttonLabel: 'Agregar actividad (selector de contenido)',
            autoSubmit: false,
            button: 'visible',
          }).form
        : '';
    sendPage(res, 200, {
      title: ctx.course.title,
      formTargets: toolOrigins(ctx),
      frameTargets: ["'self'", ...toolOrigins(ctx)],
      // The platform side of LTI Platform Storage lives in this page, the tool frame's parent.
      script: [storage === 'on' ? PLATFORM_STORAGE_SCRIPT : undefined, launch.script].filter((s) => s !== undefined).join('\n') || undefined,
      body: html`${header(ctx)}<main>
<h1>${ctx.course.title}</h1>
<p>Conectado como <strong id="current-user">${user.name}</strong> (<span id="current-role">${roleLabel(user)}</span>). <a href="/">Cambiar de usuario</a></p>
<h2>Actividad: Asistencia SENCE</h2>
<p class="muted" id="launch-mode">Se abre ${inFrame ? html`dentro del curso (iframe), ${STORAGE_LABELS[storage]}` : 'en una ventana nueva'}. Otras formas:
${modeLink(user, 'iframe', 'off', 'iframe como Moodle')} ·
${modeLink(user, 'iframe', 'on', 'iframe como Canvas')} ·
${modeLink(user, 'iframe', 'broken', 'iframe con almacenamiento bloqueado')} ·
${modeLink(user, 'window', 'off', 'ventana nueva')}</p>
<div class="actions">${launch.form}${deepLink}</div>
${inFrame ? html`<iframe name="tool-frame" id="tool-frame" title="Asistencia SENCE" allow="clipboard-write; fullscreen"></iframe>` : ''}
</main>`,
    });
  };
}

function modeLink(user: SimUser, container: LaunchContainer, storage: PlatformStorageMode, label: string): SafeHtml {
  const q = new URLSearchParams({ user: user.id, container, ...(container === 'iframe' ? { storage } : {}) });
  return html`<a href="/course?${q.toString()}">${label}</a>`;
}
