/**
 * Built-in SENCE emulator: a real HTTP server that speaks SENCE's RCE protocol
 * (/work/shared/sence/REFERENCE.md) so that demos and tests never contact SENCE, whose production
 * records cannot be deleted.
 *
 * Stand-alone on purpose: imports nothing from the rest of src/.
 *
 *   POST /{rcetest|rce}/Registro/IniciarSesion   form fields of REFERENCE §2.1
 *   POST /{rcetest|rce}/Registro/CerrarSesion    same + IdSesionSence (§2.2)
 *   POST /{env}/Registro/ClaveUnica              the ClaveÚnica stand-in login (emulator-only)
 *   GET  /{env}/Registro/Salir?solicitud=…       "Salir sin ingresar": no callback, like SENCE
 *   GET  /                                       what this is + the demo data
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeGlosa } from './codes';
import { renderAutoPost } from './html';
import { errorPage, homePage, leftPage, loginPage, simplePage, unknownRequestPage } from './pages';
import {
  FIELD,
  checkCloseSession,
  isCallbackUrl,
  normalisedCodSence,
  validateRequest,
  type EmulatedSession,
  type EmulatorState,
  type RceEnvironment,
  type RceOperation,
} from './protocol';
import { canonicalRut, parseTypedRun, rutCheckDigit } from './rut';
import { SENCE_TIME_ZONE, santiagoDate, santiagoDatePlusYears, senceFechaHora } from './time';

export type { EmulatedCourse, EmulatedOtec, EmulatedSession, EmulatorState, RceEnvironment, RceOperation } from './protocol';
export { escapeHtml, NOT_SENCE_BANNER } from './html';
export { rutCheckDigit, isWireRut } from './rut';

export interface ReceivedRequest {
  op: RceOperation;
  env: RceEnvironment;
  fields: Record<string, string>;
  at: Date;
}

export interface SenceEmulator {
  /** http://<publicHost>:<port> */
  url: string;
  /** `${url}/rcetest/Registro` */
  testBaseUrl: string;
  /** `${url}/rce/Registro` */
  productionBaseUrl: string;
  /** Mutable by tests; read on every request. */
  state: EmulatorState;
  /** Every POST received at IniciarSesion/CerrarSesion (fields as received), newest last. */
  received: ReceivedRequest[];
  /** SENCE-side sessions: IdSesionSence -> info. */
  sessions: Map<string, EmulatedSession>;
  /** Test clock: returns "now" (default () => new Date()). */
  setClock(now: () => Date): void;
  /** Forces the next IniciarSesion/CerrarSesion answer to these codes (e.g. '300' or '211;204'). */
  failNext(glosaError: string): void;
  close(): Promise<void>;
}

export interface StartSenceEmulatorOptions {
  port: number;
  /** Interface to bind, default 127.0.0.1. */
  host?: string;
  /** Host name used in `url`, default 'localhost'. */
  publicHost?: string;
  /** Missing keys are taken from demoEmulatorState(). */
  state?: Partial<EmulatorState>;
}

// ---------------------------------------------------------------------------------------------
// Demo data
// ---------------------------------------------------------------------------------------------

const DEMO_OTEC_RUT_BODY = '76543210';

export const DEMO_OTEC: { name: string; rut: string; token: string } = {
  name: 'OTEC Demo Capacitación',
  rut: `${DEMO_OTEC_RUT_BODY}-${rutCheckDigit(DEMO_OTEC_RUT_BODY)}`, // 76543210-3
  token: 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D',
};

/** A second, revoked token of the demo OTEC (answers 212). */
export const DEMO_REVOKED_TOKEN = '0F1E2D3C-4B5A-4697-8877-665544332211';

export const DEMO_SENCE_COURSE: { codSence: string; codigoCurso: string; lineaCapacitacion: 3 } = {
  codSence: '1237654321',
  codigoCurso: '6731234',
  lineaCapacitacion: 3,
};

/** RUNs on the demo course's roster (both check digits verified with mod 11). */
export const DEMO_RUNS: readonly string[] = ['12345678-5', '9876543-3'];

export const DEMO_CLAVEUNICA_PASSWORD = 'clave1234';

export function demoEmulatorState(now: Date = new Date()): EmulatorState {
  return {
    otecs: [{ rut: DEMO_OTEC.rut, tokens: [DEMO_OTEC.token], revokedTokens: [DEMO_REVOKED_TOKEN] }],
    courses: [
      {
        codSence: DEMO_SENCE_COURSE.codSence,
        codigoCurso: DEMO_SENCE_COURSE.codigoCurso,
        lineaCapacitacion: DEMO_SENCE_COURSE.lineaCapacitacion,
        otecRut: DEMO_OTEC.rut,
        state: 'active',
        startDate: santiagoDatePlusYears(now, -1),
        endDate: santiagoDatePlusYears(now, 1),
        roster: [...DEMO_RUNS],
        elearning: true,
      },
    ],
    people: Object.fromEntries(DEMO_RUNS.map((run) => [run, DEMO_CLAVEUNICA_PASSWORD])),
    sessionMaxMinutes: 180,
  };
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/**
 * ZonaHoraria: the manual gives no value list or example and the real format is unconfirmed
 * (REFERENCE §3). The emulator sends the IANA name 'America/Santiago'; consumers must treat the value
 * as opaque text.
 */
const ZONA_HORARIA = SENCE_TIME_ZONE;

/** A stand-in login that is never completed is forgotten after this long (SENCE never calls back). */
const PENDING_TTL_MS = 2 * 60 * 60 * 1000;

interface PendingLogin {
  op: RceOperation;
  env: RceEnvironment;
  fields: Record<string, string>;
  createdAt: number;
}

type CallbackFields = Array<[string, string]>;

function nonceOf(res: Response): string {
  return String(res.locals.nonce ?? '');
}

function sendHtml(res: Response, status: number, html: string): void {
  res.status(status).type('html').send(html);
}

/** application/x-www-form-urlencoded body -> fields; the first occurrence of a repeated name wins. */
function parseForm(body: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (typeof body !== 'string' || body === '') return fields;
  for (const [name, value] of new URLSearchParams(body)) {
    if (!Object.prototype.hasOwnProperty.call(fields, name)) fields[name] = value;
  }
  return fields;
}

function lookupPassword(people: Record<string, string>, run: string): string | undefined {
  for (const [person, password] of Object.entries(people)) {
    if (canonicalRut(person) === run) return password;
  }
  return undefined;
}

export function startSenceEmulator(options: StartSenceEmulatorOptions): Promise<SenceEmulator> {
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicHost ?? 'localhost';
  let state: EmulatorState = { ...demoEmulatorState(), ...options.state };
  const received: ReceivedRequest[] = [];
  const sessions = new Map<string, EmulatedSession>();
  const pending = new Map<string, PendingLogin>();
  let clock: () => Date = () => new Date();
  let forcedGlosa: string | null = null;
  let baseUrl = '';

  const fieldOf = (fields: Record<string, string>, name: string): string => fields[name] ?? '';

  /** Error callback fields (REFERENCE §3): start errors carry an empty IdSesionSence, close errors none. */
  const errorFields = (op: RceOperation, fields: Record<string, string>, glosa: string): CallbackFields => {
    const out: CallbackFields = [
      [FIELD.codSence, fieldOf(fields, FIELD.codSence)],
      [FIELD.codigoCurso, fieldOf(fields, FIELD.codigoCurso)],
      [FIELD.idSesionAlumno, fieldOf(fields, FIELD.idSesionAlumno)],
    ];
    if (op === 'IniciarSesion') out.push([FIELD.idSesionSence, '']);
    out.push(
      [FIELD.runAlumno, fieldOf(fields, FIELD.runAlumno)],
      ['FechaHora', senceFechaHora(clock())],
      ['ZonaHoraria', ZONA_HORARIA],
      [FIELD.linea, fieldOf(fields, FIELD.linea)],
      ['GlosaError', glosa],
    );
    return out;
  };

  /** Answers an error: browser POST to UrlError when it is usable, SENCE-side page otherwise. */
  const answerError = (res: Response, op: RceOperation, fields: Record<string, string>, glosa: string, delivery: 'post' | 'page'): void => {
    const urlError = fields[FIELD.urlError];
    if (delivery === 'post' && urlError !== undefined && isCallbackUrl(urlError)) {
      sendHtml(
        res,
        200,
        renderAutoPost({
          nonce: nonceOf(res),
          action: urlError,
          fields: errorFields(op, fields, glosa),
          heading: `Error ${glosa}`,
          summary: `${describeGlosa(glosa)} Volviendo a la plataforma de la OTEC…`,
        }),
      );
      return;
    }
    sendHtml(res, 400, errorPage({ nonce: nonceOf(res), glosa, receivedNames: Object.keys(fields) }));
  };

  /** Full validation against the current state and clock (requests and login completion). */
  const validate = (op: RceOperation, env: RceEnvironment, fields: Record<string, string>) => {
    const now = clock();
    const verdict = validateRequest(op, env, fields, state, santiagoDate(now));
    if (!verdict.ok || op !== 'CerrarSesion') return verdict;
    const closeCode = checkCloseSession(env, fields, sessions, now, state.sessionMaxMinutes);
    return closeCode ? { ok: false as const, code: closeCode, delivery: 'post' as const } : verdict;
  };

  const purgePending = (): void => {
    const limit = Date.now() - PENDING_TTL_MS;
    for (const [id, p] of pending) if (p.createdAt < limit) pending.delete(id);
  };

  const handleOperation = (op: RceOperation, env: RceEnvironment) => (req: Request, res: Response): void => {
    const fields = parseForm(req.body);
    received.push({ op, env, fields: { ...fields }, at: clock() });
    if (forcedGlosa !== null) {
      const glosa = forcedGlosa;
      forcedGlosa = null;
      answerError(res, op, fields, glosa, 'post');
      return;
    }
    const verdict = validate(op, env, fields);
    if (!verdict.ok) {
      answerError(res, op, fields, verdict.code, verdict.delivery);
      return;
    }
    purgePending();
    // The pending request (token included) stays server-side; the page only carries a random id.
    const requestId = randomBytes(18).toString('base64url');
    pending.set(requestId, { op, env, fields, createdAt: Date.now() });
    sendHtml(res, 200, loginPage({ nonce: nonceOf(res), env, op, requestId, demoPassword: DEMO_CLAVEUNICA_PASSWORD }));
  };

  const completeOperation = (res: Response, p: PendingLogin): void => {
    const verdict = validate(p.op, p.env, p.fields);
    if (!verdict.ok) {
      answerError(res, p.op, p.fields, verdict.code, verdict.delivery);
      return;
    }
    const now = clock();
    const f = (name: string): string => fieldOf(p.fields, name);
    let callback: CallbackFields;
    let heading: string;
    if (p.op === 'IniciarSesion') {
      const idSesionSence = `EMU-${randomUUID().toUpperCase()}`;
      sessions.set(idSesionSence, {
        run: canonicalRut(f(FIELD.runAlumno)),
        codSence: normalisedCodSence(p.fields),
        codigoCurso: f(FIELD.codigoCurso),
        idSesionAlumno: f(FIELD.idSesionAlumno),
        openedAt: now,
        closedAt: null,
        env: p.env,
      });
      callback = [
        [FIELD.codSence, f(FIELD.codSence)],
        [FIELD.codigoCurso, f(FIELD.codigoCurso)],
        [FIELD.idSesionAlumno, f(FIELD.idSesionAlumno)],
        [FIELD.idSesionSence, idSesionSence],
        [FIELD.runAlumno, f(FIELD.runAlumno)],
        ['FechaHora', senceFechaHora(now)],
        ['ZonaHoraria', ZONA_HORARIA],
        [FIELD.linea, f(FIELD.linea)],
      ];
      heading = 'Inicio de sesión registrado (emulado)';
    } else {
      const session = sessions.get(f(FIELD.idSesionSence));
      if (session) session.closedAt = now;
      // FechaHora of a close carries the close time (the manual's wording is ambiguous, REFERENCE §3).
      callback = [
        [FIELD.codSence, f(FIELD.codSence)],
        [FIELD.codigoCurso, f(FIELD.codigoCurso)],
        [FIELD.idSesionAlumno, f(FIELD.idSesionAlumno)],
        [FIELD.runAlumno, f(FIELD.runAlumno)],
        ['FechaHora', senceFechaHora(now)],
        ['ZonaHoraria', ZONA_HORARIA],
        [FIELD.linea, f(FIELD.linea)],
      ];
      heading = 'Cierre de sesión registrado (emulado)';
    }
    sendHtml(
      res,
      200,
      renderAutoPost({
        nonce: nonceOf(res),
        action: f(FIELD.urlRetoma),
        fields: callback,
        heading,
        summary: 'Nada de esto se registró en SENCE. Volviendo a la plataforma de la OTEC…',
      }),
    );
  };

  const handleLogin = (env: RceEnvironment) => (req: Request, res: Response): void => {
    const form = parseForm(req.body);
    const requestId = form.solicitud ?? '';
    const p = pending.get(requestId);
    if (!p || p.env !== env) {
      sendHtml(res, 404, unknownRequestPage(nonceOf(res)));
      return;
    }
    const typedRun = form.run ?? '';
    const run = parseTypedRun(typedRun);
    const password = run === null ? undefined : lookupPassword(state.people, run);
    if (run === null || password === undefined || password !== (form.clave ?? '')) {
      // Like ClaveÚnica: stay on the page, no callback to the OTEC.
      sendHtml(res, 200, loginPage({ nonce: nonceOf(res), env, op: p.op, requestId, typedRun, invalid: true, demoPassword: DEMO_CLAVEUNICA_PASSWORD }));
      return;
    }
    pending.delete(requestId);
    if (run !== canonicalRut(fieldOf(p.fields, FIELD.runAlumno))) {
      answerError(res, p.op, p.fields, '311', 'post');
      return;
    }
    completeOperation(res, p);
  };

  const handleLeave = (env: RceEnvironment) => (req: Request, res: Response): void => {
    const id = typeof req.query.solicitud === 'string' ? req.query.solicitud : '';
    const p = pending.get(id);
    if (p && p.env === env) pending.delete(id);
    sendHtml(res, 200, leftPage(nonceOf(res)));
  };

  const formBody = express.text({ type: 'application/x-www-form-urlencoded', limit: '64kb' });

  const registro = (env: RceEnvironment): express.Router => {
    const router = express.Router({ caseSensitive: true });
    for (const op of ['IniciarSesion', 'CerrarSesion'] as const) {
      router.post(`/${op}`, formBody, handleOperation(op, env));
      router.get(`/${op}`, (_req, res) => {
        res.set('Allow', 'POST');
        sendHtml(res, 405, simplePage(nonceOf(res), 'Método no permitido', `${op} solo acepta un POST de formulario (application/x-www-form-urlencoded) enviado por el navegador.`));
      });
    }
    router.post('/ClaveUnica', formBody, handleLogin(env));
    router.get('/Salir', handleLeave(env));
    return router;
  };

  const app = express();
  app.set('case sensitive routing', true);
  app.disable('x-powered-by');
  app.use((_req: Request, res: Response, next: NextFunction) => {
    const nonce = randomBytes(16).toString('base64');
    res.locals.nonce = nonce;
    res.set({
      'Content-Security-Policy':
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self' data:; ` +
        // The result goes back to the OTEC's callback, which can be any http(s) URL.
        `form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // A browser's default (issue #20 §5): leaving SENCE's page for the OTEC's callback, it sends
      // Origin and Referer = SENCE's origin. (no-referrer made every genuine callback arrive with
      // Origin: null.)
      'Referrer-Policy': 'strict-origin-when-cross-origin',
    });
    next();
  });
  app.get('/', (_req, res) => {
    sendHtml(
      res,
      200,
      homePage({
        nonce: nonceOf(res),
        url: baseUrl,
        state,
        otecNames: { [DEMO_OTEC.rut]: DEMO_OTEC.name },
        demoPassword: DEMO_CLAVEUNICA_PASSWORD,
      }),
    );
  });
  app.use('/rcetest/Registro', registro('rcetest'));
  app.use('/rce/Registro', registro('rce'));
  app.use((_req: Request, res: Response) => {
    sendHtml(res, 404, simplePage(nonceOf(res), 'Página no encontrada', 'Esta dirección no existe en el emulador de SENCE.'));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    sendHtml(res, status, simplePage(nonceOf(res), 'Error del emulador', 'El emulador no pudo procesar la solicitud.'));
  });

  const server = http.createServer(app);
  return new Promise<SenceEmulator>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      baseUrl = `http://${publicHost}:${port}`;
      resolve({
        url: baseUrl,
        testBaseUrl: `${baseUrl}/rcetest/Registro`,
        productionBaseUrl: `${baseUrl}/rce/Registro`,
        get state() {
          return state;
        },
        set state(next: EmulatorState) {
          state = next;
        },
        received,
        sessions,
        setClock(now: () => Date) {
          clock = now;
        },
        failNext(glosaError: string) {
          forcedGlosa = glosaError;
        },
        close() {
          return new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          });
        },
      });
    });
  });
}
