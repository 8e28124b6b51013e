/** `npm run cli -- …`: admin commands against the same store the server uses (SQLite file or MongoDB). */
import { loadConfig } from '../config';
import { openStores } from '../store/open-stores';
import { setupLti } from '../lti/lti-runtime';
import { runPlatformCli, type PlatformInfo, type PlatformRegistry } from './platform-commands';
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
export async function openPlatformRegistry(env: Record<string, string | undefined>): Promise<PlatformRegistry & { close(): Promise<void> }> {
    const config = loadConfig(env);
    const opened = await openStores({ mongodbUri: config.mongodbUri, sqliteFile: config.sqliteFile });
    const lti = await setupLti({ config, logins: opened.stores.logins, sqlite: opened.sqlite, renderError: () => undefined });
    const provider = lti.provider;
    const find = async (issuer: string, clientId: string) => {
      const p = await provider.getPlatform(issuer, clientId);
      return p && !Array.isArray(p) ? p : null;
    };
    return {
      async close() {
        await lti.close();
        await opened.stores.close();
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

async function main(): Promise<number> {
  let opened: (PlatformRegistry & { close(): Promise<void> }) | null = null;
  const registry = async () => (opened = await openPlatformRegistry(process.env));
  try {
    return await runPlatformCli(process.argv.slice(2), registry, {
      out: (l) => console.log(l),
      err: (l) => console.error(l),
    });
  } finally {
    const r = opened as (PlatformRegistry & { close(): Promise<void> }) | null;
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
