/** `npm run cli -- …`: admin commands against the same store the server uses (SQLite file or MongoDB). */
import { loadConfig } from '../config';
import { openStores } from '../store/open-stores';
import { setupLti } from '../lti/lti-runtime';
import { runPlatformCli, USAGE, type CliIo, type PlatformInfo, type PlatformRegistry } from './platform-commands';
import { OTEC_USAGE, runOtecCli, type OtecCliContext } from './otec-commands';
import { createInvite, inviteUrl } from '../application/registration-invites';
import { migrateLegacyOtecs } from '../application/otec-tenancy';
import type { Stores } from '../store/ports';
import type { Platform } from 'ltijs';

async function describe(p: Platform): Promise<PlatformInfo> {
  const auth = await p.platformAuthConfig();
  return {
    issuer: await p.platformUrl(),
    clientId: await p.platformClientId(),
    name: await p.platformName(),
    authEndpoint: await p.platformAuthEndpoint(),
    tokenEndpoint: await p.platformAccessTokenEndpoint(),
    keyMethod: auth.method,
    keyValue: typeof auth.key === 'string' ? auth.key : '',
    active: Boolean(await p.platformActive()),
    kid: await p.platformKid(),
  };
}

/** The platform registry over ltijs on the configured store; `close` releases it. */
export async function openPlatformRegistry(env: Record<string, string | undefined>): Promise<PlatformRegistry & { close(): Promise<void>; stores: Stores; tokenKey: Buffer }> {
    const config = loadConfig(env);
    const opened = await openStores({ mongodbUri: config.mongodbUri, sqliteFile: config.sqliteFile });
    await migrateLegacyOtecs(opened.stores, new Date());
    const lti = await setupLti({ config, logins: opened.stores.logins, sqlite: opened.sqlite, renderError: () => undefined });
    const provider = lti.provider;
    const find = async (issuer: string, clientId: string) => {
      const p = await provider.getPlatform(issuer, clientId);
      return p && !Array.isArray(p) ? p : null;
    };
    return {
      stores: opened.stores,
      tokenKey: config.tokenKey,
      async close() {
        await lti.close();
        await opened.stores.close();
      },
      async invite(name, hours) {
        const { code, invite } = await createInvite(opened.stores, { name, hours, now: new Date() });
        return { url: inviteUrl(config.publicUrl, code), expiresAt: invite.expiresAt };
      },
      async add(input) {
        const p = await provider.registerPlatform({
          url: input.issuer,
          clientId: input.clientId,
          name: input.name,
          authenticationEndpoint: input.authEndpoint,
          accesstokenEndpoint: input.tokenEndpoint,
          authConfig: { method: 'JWK_SET', key: input.jwksUrl },
        });
        return describe(p);
      },
      async list() {
        return Promise.all(((await provider.getAllPlatforms()) || []).map(describe));
      },
      async remove(issuer, clientId) {
        if (!(await find(issuer, clientId))) return false;
        await provider.deletePlatform(issuer, clientId);
        return true;
      },
      async setActive(issuer, clientId, active) {
        const p = await find(issuer, clientId);
        if (!p) return false;
        await p.platformActive(active);
        return true;
      },
    };
}

/** What `otec …` needs, over the same registry (store, key, registered platforms). */
export function otecContext(registry: Awaited<ReturnType<typeof openPlatformRegistry>>): OtecCliContext {
  return {
    stores: registry.stores,
    tokenKey: registry.tokenKey,
    platforms: async () => (await registry.list()).map((p) => ({ issuer: p.issuer, clientId: p.clientId })),
    now: () => new Date(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Both groups' usage: what `--help` prints. */
export const HELP = ['Asistencia SENCE: comandos de administración.', '', USAGE, OTEC_USAGE.replace(/^Uso:\n/, '')].join('\n');
const HELP_WORDS = new Set(['--help', '-h', 'help']);

/** One call of the CLI: `platform …`, `otec …`, or `--help` (on standard output, exit 0; nothing is opened). */
export async function runCli(argv: string[], registry: () => Promise<PlatformRegistry>, otec: () => Promise<OtecCliContext>, io: CliIo): Promise<number> {
  const [group, command] = argv;
  if (group === undefined) {
    io.err(`Falta el comando.\n\n${HELP}`);
    return 2;
  }
  if (HELP_WORDS.has(group)) {
    io.out(HELP);
    return 0;
  }
  if (group !== 'platform' && group !== 'otec') {
    io.err(`Comando desconocido: ${group}.\n\n${HELP}`);
    return 2;
  }
  if (command !== undefined && HELP_WORDS.has(command)) {
    io.out(group === 'otec' ? OTEC_USAGE : USAGE);
    return 0;
  }
  if (group === 'otec') return runOtecCli(argv, otec, io);
  return runPlatformCli(argv, registry, io);
}

async function main(): Promise<number> {
  let opened: Awaited<ReturnType<typeof openPlatformRegistry>> | null = null;
  const registry = async () => (opened = await openPlatformRegistry(process.env));
  const io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) };
  try {
    return await runCli(process.argv.slice(2), registry, async () => otecContext(await registry()), io);
  } finally {
    const r = opened as Awaited<ReturnType<typeof openPlatformRegistry>> | null;
    if (r) await r.close();
  }
}

if (require.main === module) {
  main()
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      console.error('Error:', err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
