/**
 * The route table the fuzz targets (test/support/app-routes.ts): read from the app, nested routers,
 * an Express 4 sub-app (as ltijs mounts its own) and static mounts included — and a route added to
 * an app shows up without anyone listing it.
 */
import express from 'express';
import { appRoutes, type AppRoute } from '../support/app-routes';

// ltijs brings its own Express 4: the sub-app below is built with it, as in the tool.
const express4 = require('ltijs/node_modules/express') as typeof express;

const show = (routes: AppRoute[]) => routes.map((r) => `${r.kind} ${r.methods.join(',')} ${r.path} @${r.app}`);

function testApp() {
  const app = express();
  app.use((_req, _res, next) => next());
  app.use('/cb', (_req, _res, next) => next());
  app.use('/public', express.static(__dirname));
  app.get(['/healthz', '/health'], (_req, res) => res.end());
  const inner = express.Router();
  inner.post('/staff/otecs/:id/unlink', (_req, res) => res.end());
  const outer = express.Router();
  outer.use(inner);
  outer.get('/', (_req, res) => res.end());
  app.use('/lti', outer);
  const sub = express4();
  sub.all('/login', (_req, res) => res.end());
  sub.get('/keys', (_req, res) => res.end());
  sub.use('/static', express4.static(__dirname));
  app.use('/lti', sub as unknown as express.Express);
  return { app, sub };
}

describe('appRoutes', () => {
  it('finds routes, nested routers, path mounts, static mounts and the routes of a mounted Express 4 app', () => {
    const { app, sub } = testApp();
    expect(show(appRoutes(app, [sub]))).toEqual([
      'mount ALL /cb @0',
      'static GET,HEAD /public @0',
      'route GET /healthz @0',
      'route GET /health @0',
      'mount ALL /lti @0',
      'route POST /lti/staff/otecs/:id/unlink @0',
      'route GET /lti @0',
      'route ALL /lti/login @1',
      'route GET /lti/keys @1',
      'static GET,HEAD /lti/static @1',
    ]);
  });

  it('says a mounted app it was not given is unresolved instead of leaving its routes out silently', () => {
    const { app } = testApp();
    expect(appRoutes(app).filter((r) => r.kind === 'unresolved').map((r) => r.path)).toEqual(['/lti']);
  });

  it('finds a route added after the app was built, with no list to update', () => {
    const { app, sub } = testApp();
    const before = show(appRoutes(app, [sub]));
    app.put('/nueva/:id', (_req, res) => res.end());
    sub.delete('/otra', (_req, res) => res.end());
    const added = show(appRoutes(app, [sub])).filter((r) => !before.includes(r));
    expect(added).toEqual(['route DELETE /lti/otra @1', 'route PUT /nueva/:id @0']);
  });
});
