/**
 * Every route an Express app registers, read from the app itself at run time (issue #19 §9): the
 * fuzz targets what this returns, so a route added tomorrow is fuzzed the day it is added.
 *
 * Express 5 (router 2) keeps its layers in `app.router.stack`, each with the path it was given
 * (`rawPath`, a string or an array); a nested router's layers are under `layer.handle.stack`. An
 * Express 4 app (ltijs's own) keeps them in `app._router.stack`, with `route.path` on route layers.
 * A whole app mounted with `app.use(path, subApp)` leaves only a `mounted_app` function in the
 * parent's stack: pass the sub-apps (they know their `mountpath`) to walk into them, otherwise the
 * mount is returned as `unresolved`.
 */

export type RouteKind =
  /** A route (`app.get`, `router.post`, `app.all`…): `methods` says which. */
  | 'route'
  /** Middleware mounted at a path (`app.use('/cb', …)`): it sees every method and every path under it. */
  | 'mount'
  /** `express.static` mounted at `path`. */
  | 'static'
  /** A sub-app mounted at `path` that was not passed in: its routes are unknown. */
  | 'unresolved';

export interface AppRoute {
  kind: RouteKind;
  /** Upper-case methods, or ['ALL'] (`app.all`, middleware mounts, static). */
  methods: string[];
  /** Full path pattern from the root (`/lti/staff/learners/:sub/enrollment`, `/cb/ok/:token`). */
  path: string;
  /** Which app registered it: 0 the root app, 1… the sub-apps in the order given. */
  app: number;
}

interface AnyLayer {
  rawPath?: unknown;
  route?: { path?: unknown; methods?: Record<string, boolean> };
  handle?: { stack?: unknown; name?: string };
  name?: string;
  regexp?: RegExp & { fast_slash?: boolean; fast_star?: boolean };
}

interface AnyApp {
  router?: { stack?: unknown };
  _router?: { stack?: unknown };
  mountpath?: unknown;
}

function stackOf(app: AnyApp): AnyLayer[] {
  // Express 4 throws on reading `app.router` (removed in 4.0): its `_router` first.
  const stack = Object.hasOwn(app, '_router') ? app._router?.stack : app.router?.stack;
  return Array.isArray(stack) ? (stack as AnyLayer[]) : [];
}

function join(prefix: string, path: string): string {
  if (path === '/' || path === '') return prefix === '' ? '/' : prefix;
  return `${prefix.replace(/\/$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
}

function pathsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flat(Infinity).filter((p): p is string => typeof p === 'string');
  return [];
}

/**
 * The path a layer was registered with. Express 5 keeps it (`rawPath`); an Express 4 layer keeps
 * only its regexp, enough for the paths ltijs uses: `/` (fast_slash) or a literal prefix.
 */
function layerPaths(layer: AnyLayer): string[] | null {
  if (layer.rawPath !== undefined) return pathsOf(layer.rawPath);
  const re = layer.regexp;
  if (!re) return null;
  if (re.fast_slash || re.fast_star) return ['/'];
  // Express 4's path-to-regexp 0.1 for a literal mount: /^\/foo\/?(?=\/|$)/i
  const literal = /^\^((?:\\\/[A-Za-z0-9._~-]+)+)\\\/\?\(\?=\\\/\|\$\)$/.exec(re.source);
  return literal ? [literal[1]!.replace(/\\\//g, '/')] : null;
}

export function appRoutes(root: unknown, subApps: unknown[] = []): AppRoute[] {
  const out: AppRoute[] = [];
  const seen = new Set<string>();
  const add = (route: AppRoute) => {
    const key = `${route.kind} ${route.methods.join(',')} ${route.path} ${route.app}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(route);
  };
  const subs = subApps as AnyApp[];
  const walk = (stack: AnyLayer[], prefix: string, app: number, depth: number) => {
    if (depth > 20) return; // a router mounted inside itself would never end
    for (const layer of stack) {
      const paths = layerPaths(layer);
      if (layer.route) {
        const methods = Object.entries(layer.route.methods ?? {})
          .filter(([, on]) => on)
          .map(([m]) => (m === '_all' ? 'ALL' : m.toUpperCase()));
        // Express 4's app.all registers every method one by one.
        if (methods.length > 20) methods.splice(0, methods.length, 'ALL');
        for (const p of pathsOf(layer.route.path)) add({ kind: 'route', methods: methods.length ? methods.sort() : ['ALL'], path: join(prefix, p), app });
        continue;
      }
      if (paths === null) {
        add({ kind: 'unresolved', methods: ['ALL'], path: `${prefix}/(unknown ${String(layer.regexp)})`, app });
        continue;
      }
      const handle = layer.handle;
      for (const p of paths) {
        const full = join(prefix, p);
        if (handle && Array.isArray(handle.stack)) {
          // A nested router: its layers are relative to where it is mounted.
          if (full !== '/' && full !== prefix) add({ kind: 'mount', methods: ['ALL'], path: full, app });
          walk(handle.stack as AnyLayer[], full === '/' ? '' : full, app, depth + 1);
        } else if (layer.name === 'mounted_app' || handle?.name === 'mounted_app') {
          const index = subs.findIndex((s) => pathsOf(s.mountpath).includes(p));
          if (index < 0) add({ kind: 'unresolved', methods: ['ALL'], path: full, app });
          else walk(stackOf(subs[index]!), full === '/' ? '' : full, index + 1, depth + 1);
        } else if (layer.name === 'serveStatic' || handle?.name === 'serveStatic') {
          add({ kind: 'static', methods: ['GET', 'HEAD'], path: full, app });
        } else if (full !== '/' && full !== prefix) {
          add({ kind: 'mount', methods: ['ALL'], path: full, app });
        }
      }
    }
  };
  walk(stackOf(root as AnyApp), '', 0, 0);
  return out;
}
