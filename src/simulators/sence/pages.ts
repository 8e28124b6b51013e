/** Page bodies of the SENCE emulator (all values escaped; layout and banner from html.ts). */
import { describeGlosa } from './codes';
import { escapeHtml, renderPage } from './html';
import type { EmulatorState, RceEnvironment, RceOperation } from './protocol';

const OPERATION_LABEL: Record<RceOperation, string> = {
  IniciarSesion: 'Iniciar sesión de asistencia (IniciarSesion)',
  CerrarSesion: 'Cerrar sesión de asistencia (CerrarSesion)',
};

const ENV_LABEL: Record<RceEnvironment, string> = {
  rcetest: 'rcetest (pruebas)',
  rce: 'rce (producción emulada)',
};

export function homePage(options: {
  nonce: string;
  url: string;
  state: EmulatorState;
  otecNames: Record<string, string>;
  demoPassword: string;
}): string {
  const { state } = options;
  const endpoints = (['rcetest', 'rce'] as const)
    .flatMap((env) =>
      (['IniciarSesion', 'CerrarSesion'] as const).map(
        (op) => `<li><span class="mono">${escapeHtml(`${options.url}/${env}/Registro/${op}`)}</span></li>`,
      ),
    )
    .join('\n');
  const otecRows = state.otecs
    .map(
      (o) => `<tr><td>${escapeHtml(options.otecNames[o.rut] ?? '—')}</td><td class="mono">${escapeHtml(o.rut)}</td>` +
        `<td class="mono">${o.tokens.map(escapeHtml).join('<br>') || '—'}</td>` +
        `<td class="mono">${o.revokedTokens.map(escapeHtml).join('<br>') || '—'}</td></tr>`,
    )
    .join('\n');
  const courseRows = state.courses
    .map(
      (c) => `<tr><td>${escapeHtml(c.lineaCapacitacion)}</td><td class="mono">${c.codSence === '' ? '(vacío)' : escapeHtml(c.codSence)}</td>` +
        `<td class="mono">${escapeHtml(c.codigoCurso)}</td><td class="mono">${escapeHtml(c.otecRut)}</td>` +
        `<td>${escapeHtml(c.state)}${c.elearning ? '' : ', no e-learning'}</td>` +
        `<td>${escapeHtml(c.startDate)} a ${escapeHtml(c.endDate)}</td>` +
        `<td class="mono">${c.roster.map(escapeHtml).join('<br>') || '—'}</td></tr>`,
    )
    .join('\n');
  const peopleRows = Object.entries(state.people)
    .map(([run, password]) => `<tr><td class="mono">${escapeHtml(run)}</td><td class="mono">${escapeHtml(password)}</td></tr>`)
    .join('\n');
  const body = `<div class="card">
<h1>Emulador de SENCE (Registro de Asistencia E-learning, RCE)</h1>
<p>Este servidor imita el protocolo RCE de SENCE para que las demostraciones y las pruebas de «Asistencia SENCE» nunca contacten a SENCE: los registros de producción de SENCE no se pueden borrar.</p>
<p>Recibe los formularios <span class="mono">IniciarSesion</span> y <span class="mono">CerrarSesion</span>, valida los campos como lo describe el manual técnico (códigos de error 200 a 311), muestra una imitación de la pantalla de ClaveÚnica y devuelve el resultado por POST del navegador a <span class="mono">UrlRetoma</span> o <span class="mono">UrlError</span>.</p>
<p>Si sales de la pantalla de ClaveÚnica sin ingresar, no se devuelve nada a la OTEC, igual que en SENCE real.</p>
<h2>Direcciones</h2>
<ul>
${endpoints}
</ul>
<p class="hint">Los comodines <span class="mono">-1</span> para CodSence y CodigoCurso solo se aceptan en <span class="mono">rcetest</span>.</p>
<h2>OTEC</h2>
<table><thead><tr><th scope="col">Nombre</th><th scope="col">RUT</th><th scope="col">Token vigente</th><th scope="col">Token revocado</th></tr></thead>
<tbody>
${otecRows}
</tbody></table>
<h2>Cursos (acciones)</h2>
<table><thead><tr><th scope="col">Línea</th><th scope="col">CodSence</th><th scope="col">CodigoCurso</th><th scope="col">OTEC</th><th scope="col">Estado</th><th scope="col">Fechas</th><th scope="col">Nómina (RUN)</th></tr></thead>
<tbody>
${courseRows}
</tbody></table>
<h2>Personas (imitación de ClaveÚnica)</h2>
<table><thead><tr><th scope="col">RUN</th><th scope="col">Clave</th></tr></thead>
<tbody>
${peopleRows}
</tbody></table>
<p class="hint">Clave de demostración: <span class="mono">${escapeHtml(options.demoPassword)}</span>. Las sesiones expiran del lado del emulador a los ${escapeHtml(state.sessionMaxMinutes)} minutos: cerrar después responde 301.</p>
</div>`;
  return renderPage({ title: 'Emulador de SENCE', nonce: options.nonce, body, wide: true });
}

export function loginPage(options: {
  nonce: string;
  env: RceEnvironment;
  op: RceOperation;
  requestId: string;
  typedRun?: string;
  invalid?: boolean;
  demoPassword: string;
}): string {
  const base = `/${options.env}/Registro`;
  const alert = options.invalid ? '<p class="alert" role="alert">Datos de acceso no válidos</p>' : '';
  const body = `<div class="card">
<p class="brand">ClaveÚnica</p>
<h1>Portal de Aplicaciones Sence</h1>
<p class="sub">Requiere autenticación</p>
<p class="context">Operación pedida por la OTEC: ${escapeHtml(OPERATION_LABEL[options.op])} · Entorno: ${escapeHtml(ENV_LABEL[options.env])}</p>
${alert}
<form method="post" action="${escapeHtml(`${base}/ClaveUnica`)}">
<input type="hidden" name="solicitud" value="${escapeHtml(options.requestId)}">
<label for="run">Ingresa tu RUN</label>
<input type="text" id="run" name="run" value="${escapeHtml(options.typedRun ?? '')}" autocomplete="username" autocapitalize="characters" spellcheck="false" placeholder="12345678-9" aria-describedby="run-ayuda" required>
<p id="run-ayuda" class="hint">Ejemplo: 12345678-9</p>
<label for="clave">Ingresa tu Clave</label>
<input type="password" id="clave" name="clave" autocomplete="current-password" required>
<button type="submit">Continuar</button>
</form>
<div class="links">
<span>¿Olvidaste tu ClaveÚnica?</span>
<a href="${escapeHtml(`${base}/Salir?solicitud=${encodeURIComponent(options.requestId)}`)}">Salir sin ingresar</a>
</div>
<p class="hint">Emulador: aquí no se usa tu ClaveÚnica real. Clave de las personas de demostración: <span class="mono">${escapeHtml(options.demoPassword)}</span></p>
</div>`;
  return renderPage({ title: 'Portal de Aplicaciones Sence', nonce: options.nonce, body });
}

export function leftPage(nonce: string): string {
  const body = `<div class="card">
<h1>Saliste sin ingresar</h1>
<p>No se enviará nada de vuelta a la plataforma de la OTEC: ni éxito ni error. Así se comporta SENCE cuando no completas el ingreso con ClaveÚnica.</p>
<p>Tu asistencia no quedó registrada. Puedes cerrar esta pestaña y volver a la plataforma de tu OTEC para intentarlo de nuevo.</p>
</div>`;
  return renderPage({ title: 'Saliste sin ingresar', nonce, body });
}

export function unknownRequestPage(nonce: string): string {
  const body = `<div class="card">
<h1>Solicitud no encontrada</h1>
<p>Esta solicitud de ingreso no existe, ya se usó o expiró. No se enviará nada a la plataforma de la OTEC.</p>
<p>Vuelve a la plataforma de tu OTEC y empieza de nuevo.</p>
</div>`;
  return renderPage({ title: 'Solicitud no encontrada', nonce, body });
}

/** SENCE-side error page for answers that cannot be posted back (201, 203, or 202 with a bad UrlError). */
export function errorPage(options: { nonce: string; glosa: string; receivedNames: string[] }): string {
  const names = options.receivedNames.length
    ? options.receivedNames.map((n) => `<span class="mono">${escapeHtml(n)}</span>`).join(', ')
    : 'ninguno (¿el formulario se envió como application/x-www-form-urlencoded?)';
  const body = `<div class="card">
<p class="brand">SENCE · Registro de asistencia (emulado)</p>
<h1>No se pudo procesar la solicitud</h1>
<p class="code">Error ${escapeHtml(options.glosa)}</p>
<p>${escapeHtml(describeGlosa(options.glosa))}</p>
<p>Este error no se puede devolver a la plataforma de la OTEC porque no hay una UrlError utilizable.</p>
<p class="hint">Campos recibidos: ${names}</p>
</div>`;
  return renderPage({ title: `Error ${options.glosa}`, nonce: options.nonce, body });
}

export function simplePage(nonce: string, title: string, message: string): string {
  return renderPage({ title, nonce, body: `<div class="card"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></div>` });
}
