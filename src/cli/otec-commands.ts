/**
 * `otec add | list | rotate | remove | link | unlink` (issue #7): the operator manages OTECs (RUT,
 * name, sealed SENCE token) and which LMS platforms may use them. Arguments are validated before
 * the store is touched: a malformed call changes nothing.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { Otec, PlatformKey } from '../domain/types';
import type { Stores } from '../store/ports';
import { validateOtecInput } from '../domain/course-settings';
import { sealSecret, secretHint } from '../domain/token-crypto';
import { isLinked, samePlatform } from '../application/otec-tenancy';
import type { CliIo } from './platform-commands';

export interface OtecCliContext {
  stores: Stores;
  tokenKey: Buffer;
  /** Registered platforms (issuer, client_id), to catch a mistyped --platform. */
  platforms(): Promise<PlatformKey[]>;
  now(): Date;
  /** Reads the token from standard input when --token is "-" (keeps it out of the shell history). */
  readStdin(): Promise<string>;
}

export const OTEC_USAGE = [
  'Uso:',
  '  npm run cli -- otec add --rut RUT --name TEXTO --token TOKEN|- [--platform ISSUER --client-id ID]',
  '  npm run cli -- otec list',
  '  npm run cli -- otec rotate --rut RUT --token TOKEN|- [--name TEXTO]',
  '  npm run cli -- otec remove --rut RUT',
  '  npm run cli -- otec link --rut RUT --platform ISSUER --client-id ID',
  '  npm run cli -- otec unlink --rut RUT --platform ISSUER --client-id ID',
  '  (--token - lee el token desde la entrada estándar, para que no quede en el historial)',
].join('\n');

function usage(message: string): AppError {
  return new AppError('cli-usage', 400, `${message}\n\n${OTEC_USAGE}`);
}

export async function runOtecCli(argv: string[], context: () => Promise<OtecCliContext>, io: CliIo): Promise<number> {
  try {
    const [group, command, ...rest] = argv;
    if (group !== 'otec' || !command) throw usage('Comando desconocido.');
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        rut: { type: 'string' },
        name: { type: 'string' },
        token: { type: 'string' },
        platform: { type: 'string' },
        'client-id': { type: 'string' },
      },
    });
    const platformArg = (required: boolean): PlatformKey | null => {
      const issuer = values.platform?.trim().replace(/\/+$/, '');
      const clientId = values['client-id']?.trim();
      if (!issuer && !clientId && !required) return null;
      if (!issuer) throw usage('Falta --platform (el issuer de la plataforma, como en «platform list»).');
      if (!clientId) throw usage('Falta --client-id.');
      return { issuer, clientId };
    };
    const rutArg = (): string => {
      const r = validateOtecInput({ rut: values.rut ?? '', name: 'x', token: '00000000-0000-0000-0000-000000000000' });
      if (!r.ok) throw usage(`--rut: ${r.errors.rut ?? 'RUT no válido'}`);
      return r.value.rut;
    };
    const tokenArg = async (ctx: OtecCliContext): Promise<string> => {
      if (values.token === undefined) throw usage('Falta --token (o --token - para leerlo de la entrada estándar).');
      const raw = values.token === '-' ? (await ctx.readStdin()).trim() : values.token;
      const r = validateOtecInput({ rut: '76123456-0', name: 'x', token: raw });
      if (!r.ok) throw usage(`--token: ${r.errors.token ?? 'token no válido'}`);
      return r.value.token;
    };
    const findByRut = async (ctx: OtecCliContext, rut: string): Promise<Otec> => {
      const otec = (await ctx.stores.otecs.list()).find((o) => o.rut === rut);
      if (!otec) throw new AppError('otec-not-found', 404, `No existe un OTEC con RUT ${rut} (npm run cli -- otec list).`);
      return otec;
    };
    const registered = async (ctx: OtecCliContext, p: PlatformKey) => {
      if (!(await ctx.platforms()).some((q) => samePlatform(q, p))) {
        throw new AppError('cli-usage', 400, `No hay una plataforma registrada con issuer ${p.issuer} y client_id ${p.clientId} (npm run cli -- platform list).`);
      }
    };

    switch (command) {
      case 'add': {
        const input = validateOtecInput({ rut: values.rut ?? '', name: values.name ?? '', token: values.token === '-' ? '00000000-0000-0000-0000-000000000000' : values.token ?? '' });
        if (!input.ok) throw usage(Object.entries(input.errors).map(([k, m]) => `--${k}: ${m}`).join('\n'));
        const platform = platformArg(false);
        const ctx = await context();
        const token = await tokenArg(ctx);
        if (platform) await registered(ctx, platform);
        if ((await ctx.stores.otecs.list()).some((o) => o.rut === input.value.rut)) {
          throw new AppError('cli-usage', 400, `Ya existe un OTEC con RUT ${input.value.rut}: use otec rotate para cambiar su token u otec link para vincularlo.`);
        }
        const now = ctx.now();
        const otec = await ctx.stores.otecs.save({
          id: randomUUID(),
          name: input.value.name,
          rut: input.value.rut,
          tokenSealed: sealSecret(token, ctx.tokenKey),
          tokenHint: secretHint(token),
          platforms: platform ? [platform] : [],
          createdAt: now,
          updatedAt: now,
        });
        io.out(`OTEC agregado: ${otec.name} (RUT ${otec.rut}, token …${otec.tokenHint})${platform ? `, vinculado a ${platform.issuer} (client_id ${platform.clientId})` : ', sin plataformas: vincúlelo con otec link'}.`);
        return 0;
      }
      case 'list': {
        const ctx = await context();
        const otecs = await ctx.stores.otecs.list();
        if (!otecs.length) io.out('No hay OTEC registrados.');
        for (const o of otecs) {
          const courses = await ctx.stores.courses.listByOtec(o.id);
          const platforms = (o.platforms ?? []).map((p) => `${p.issuer} (client_id ${p.clientId})`).join(', ') || 'ninguna';
          io.out(`${o.rut}  ${o.name}  token=…${o.tokenHint}  plataformas: ${platforms}  cursos: ${courses.length}`);
        }
        return 0;
      }
      case 'rotate': {
        const rut = rutArg();
        const ctx = await context();
        const token = await tokenArg(ctx);
        const otec = await findByRut(ctx, rut);
        // --name also renames it (issue #19: an OTEC shared by several platforms is changed only here).
        let name = otec.name;
        if (values.name !== undefined) {
          const r = validateOtecInput({ rut, name: values.name, token: '00000000-0000-0000-0000-000000000000' });
          if (!r.ok) throw usage(`--name: ${r.errors.name ?? 'nombre no válido'}`);
          name = r.value.name;
        }
        const saved = await ctx.stores.otecs.save({ ...otec, name, tokenSealed: sealSecret(token, ctx.tokenKey), tokenHint: secretHint(token), updatedAt: ctx.now() });
        io.out(`Token del OTEC ${saved.name} (RUT ${saved.rut}) reemplazado: termina en …${saved.tokenHint}.${name !== otec.name ? ` Nombre anterior: ${otec.name}.` : ''}`);
        return 0;
      }
      case 'remove': {
        const rut = rutArg();
        const ctx = await context();
        const otec = await findByRut(ctx, rut);
        const courses = await ctx.stores.courses.listByOtec(otec.id);
        if (courses.length) {
          io.err(`El OTEC ${otec.name} (RUT ${rut}) está en uso en ${courses.length} curso(s): ${courses.slice(0, 5).map((c) => c.title ?? c.contextId).join(', ')}. Cambie el OTEC de esos cursos o use otec unlink.`);
          return 1;
        }
        await ctx.stores.otecs.remove(otec.id);
        io.out(`OTEC ${otec.name} (RUT ${rut}) eliminado.`);
        return 0;
      }
      case 'link':
      case 'unlink': {
        const rut = rutArg();
        const platform = platformArg(true) as PlatformKey;
        const ctx = await context();
        const otec = await findByRut(ctx, rut);
        if (command === 'link') {
          await registered(ctx, platform);
          if (isLinked(otec, platform)) {
            io.out(`El OTEC ${otec.name} ya estaba vinculado a ${platform.issuer} (client_id ${platform.clientId}).`);
            return 0;
          }
          await ctx.stores.otecs.save({ ...otec, platforms: [...(otec.platforms ?? []), platform], updatedAt: ctx.now() });
          io.out(`OTEC ${otec.name} (RUT ${rut}) vinculado a ${platform.issuer} (client_id ${platform.clientId}): sus cursos ya pueden elegirlo y sus administradores, administrarlo.`);
          return 0;
        }
        if (!isLinked(otec, platform)) {
          io.err(`El OTEC ${otec.name} no está vinculado a ${platform.issuer} (client_id ${platform.clientId}).`);
          return 1;
        }
        await ctx.stores.otecs.save({ ...otec, platforms: (otec.platforms ?? []).filter((p) => !samePlatform(p, platform)), updatedAt: ctx.now() });
        io.out(`OTEC ${otec.name} (RUT ${rut}) desvinculado de ${platform.issuer} (client_id ${platform.clientId}).`);
        return 0;
      }
      default:
        throw usage(`Comando desconocido: otec ${command}.`);
    }
  } catch (err) {
    if (err instanceof AppError) {
      io.err(err.message);
      return err.code === 'otec-not-found' ? 1 : 2;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`Opción no válida: ${(err as Error).message}\n\n${OTEC_USAGE}`);
      return 2;
    }
    throw err;
  }
}
