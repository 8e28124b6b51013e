/**
 * `platform add | list | remove | activate | deactivate`: registering LMS platforms without code.
 * Argument parsing and validation are pure; the registry is a small port over ltijs.
 */
import { parseArgs } from 'node:util';
import { AppError } from '../errors';
import { INVITE_DEFAULT_HOURS, INVITE_MAX_HOURS } from '../application/registration-invites';

export interface PlatformInfo {
  issuer: string;
  clientId: string;
  name: string;
  authEndpoint: string;
  tokenEndpoint: string;
  keyMethod: string;
  keyValue: string;
  active: boolean;
  kid: string;
}

export interface PlatformRegistry {
  add(p: { issuer: string; clientId: string; name: string; authEndpoint: string; tokenEndpoint: string; jwksUrl: string }): Promise<PlatformInfo>;
  list(): Promise<PlatformInfo[]>;
  remove(issuer: string, clientId: string): Promise<boolean>;
  setActive(issuer: string, clientId: string, active: boolean): Promise<boolean>;
  /** Creates a one-time dynamic-registration invitation; returns the URL to give the LMS administrator. */
  invite(name: string | null, hours: number): Promise<{ url: string; expiresAt: Date }>;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = [
  'Uso:',
  '  npm run cli -- platform add --issuer URL --client-id ID --auth-endpoint URL --token-endpoint URL --jwks-url URL [--name TEXTO]',
  '  npm run cli -- platform list',
  '  npm run cli -- platform remove --issuer URL --client-id ID',
  '  npm run cli -- platform activate --issuer URL --client-id ID',
  '  npm run cli -- platform deactivate --issuer URL --client-id ID',
  '  npm run cli -- platform invite [--name TEXTO] [--hours 24]',
].join('\n');

function usage(message: string): AppError {
  return new AppError('cli-usage', 400, `${message}\n\n${USAGE}`);
}

function httpUrl(flag: string, value: string | undefined): string {
  if (!value) throw usage(`Falta --${flag}.`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw usage(`--${flag} no es una URL válida: «${value}». Debe ser absoluta, por ejemplo https://moodle.ejemplo.cl`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw usage(`--${flag} debe usar https (o http en pruebas locales): «${value}».`);
  }
  return value.replace(/\/+$/, '') === value ? value : value.replace(/\/+$/, '');
}

function requiredText(flag: string, value: string | undefined, max = 255): string {
  const v = value?.trim();
  if (!v) throw usage(`Falta --${flag}.`);
  if (v.length > max) throw usage(`--${flag} es demasiado largo (máximo ${max} caracteres).`);
  return v;
}

export async function runPlatformCli(argv: string[], registry: () => Promise<PlatformRegistry>, io: CliIo): Promise<number> {
  try {
    const [group, command, ...rest] = argv;
    if (group !== 'platform' || !command) throw usage('Comando desconocido.');
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'auth-endpoint': { type: 'string' },
        'token-endpoint': { type: 'string' },
        'jwks-url': { type: 'string' },
        name: { type: 'string' },
        hours: { type: 'string' },
      },
    });
    switch (command) {
      case 'add': {
        // Validate everything before touching the store: a malformed call changes nothing.
        const input = {
          issuer: httpUrl('issuer', values.issuer),
          clientId: requiredText('client-id', values['client-id']),
          authEndpoint: httpUrl('auth-endpoint', values['auth-endpoint']),
          tokenEndpoint: httpUrl('token-endpoint', values['token-endpoint']),
          jwksUrl: httpUrl('jwks-url', values['jwks-url']),
          name: values.name?.trim() || new URL(values.issuer as string).host,
        };
        const p = await (await registry()).add(input);
        io.out(`Plataforma registrada: ${p.name} (${p.issuer}, client_id ${p.clientId}), activa: ${p.active ? 'sí' : 'no'}.`);
        return 0;
      }
      case 'list': {
        const list = await (await registry()).list();
        if (!list.length) io.out('No hay plataformas registradas.');
        for (const p of list) {
          io.out(`${p.active ? 'activa  ' : 'inactiva'}  ${p.issuer}  client_id=${p.clientId}  nombre=${p.name}  login=${p.authEndpoint}  llaves=${p.keyMethod}:${p.keyMethod === 'JWK_SET' ? p.keyValue : '(llave fija)'}`);
        }
        return 0;
      }
      case 'remove':
      case 'activate':
      case 'deactivate': {
        const issuer = httpUrl('issuer', values.issuer);
        const clientId = requiredText('client-id', values['client-id']);
        const reg = await registry();
        const done = command === 'remove' ? await reg.remove(issuer, clientId) : await reg.setActive(issuer, clientId, command === 'activate');
        if (!done) {
          io.err(`No existe una plataforma con issuer ${issuer} y client_id ${clientId}.`);
          return 1;
        }
        io.out(command === 'remove' ? 'Plataforma eliminada.' : command === 'activate' ? 'Plataforma activada.' : 'Plataforma desactivada.');
        return 0;
      }
      case 'invite': {
        const hoursText = values.hours?.trim() ?? String(INVITE_DEFAULT_HOURS);
        const hours = /^\d+$/.test(hoursText) ? Number(hoursText) : NaN;
        if (!(hours >= 1 && hours <= INVITE_MAX_HOURS)) throw usage(`--hours debe ser un número entero de 1 a ${INVITE_MAX_HOURS}: «${hoursText}».`);
        const name = values.name?.trim() || null;
        if (name && name.length > 100) throw usage('--name es demasiado largo (máximo 100 caracteres).');
        const { url, expiresAt } = await (await registry()).invite(name, hours);
        io.out(`Invitación de registro${name ? ` para ${name}` : ''} (un solo uso, vence ${expiresAt.toISOString()}):`);
        io.out(url);
        io.out('En Moodle: Administración del sitio → Plugins → Módulos de actividad → Herramienta externa → Gestionar herramientas → «URL de la herramienta»: pegue esta dirección y pulse «Añadir LTI Advantage».');
        io.out('Al terminar, la plataforma queda activa; en Moodle active «Mostrar en el selector de actividades» de la herramienta para que los docentes la encuentren.');
        return 0;
      }
      default:
        throw usage(`Comando desconocido: platform ${command}.`);
    }
  } catch (err) {
    if (err instanceof AppError) {
      io.err(err.message);
      return 2;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`Opción no válida: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
