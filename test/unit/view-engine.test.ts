/**
 * The EJS engine of the views (src/web/view-engine.ts): compiled once with Express's view cache on
 * (production), read again on every render with it off (development), partials by absolute name
 * from the views folder, and a broken view reported as an error (never a half page).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ejsViewEngine } from '../../src/web/view-engine';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-views-'));
  fs.mkdirSync(path.join(dir, 'partials'));
  fs.writeFileSync(path.join(dir, 'partials', 'head.ejs'), '<h1><%= title %></h1>');
  fs.writeFileSync(path.join(dir, 'page.ejs'), "<%- include('/partials/head', { title: 'Asistencia SENCE' }) %><p><%= name %></p>");
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function render(engine: ReturnType<typeof ejsViewEngine>, file: string, data: object): Promise<string> {
  return new Promise((resolve, reject) => engine(path.join(dir, file), data, (err, html) => (err ? reject(err) : resolve(html ?? ''))));
}

describe('ejsViewEngine', () => {
  it('renders a view with its partial (absolute name) and escapes the data', async () => {
    const engine = ejsViewEngine({ root: dir, cached: () => true });
    expect(await render(engine, 'page.ejs', { name: 'Ana <b>' })).toBe('<h1>Asistencia SENCE</h1><p>Ana &lt;b&gt;</p>');
  });

  it('with the view cache on, a view is compiled once: an edit on disk is not read again', async () => {
    const engine = ejsViewEngine({ root: dir, cached: () => true });
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toContain('<p>Ana</p>');
    fs.writeFileSync(path.join(dir, 'page.ejs'), '<p>cambiada <%= name %></p>');
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toContain('<p>Ana</p>');
  });

  it('with the view cache off, every render reads the view again', async () => {
    let cache = false;
    const engine = ejsViewEngine({ root: dir, cached: () => cache });
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toContain('<p>Ana</p>');
    fs.writeFileSync(path.join(dir, 'page.ejs'), '<p>cambiada <%= name %></p>');
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toBe('<p>cambiada Ana</p>');
    cache = true;
    expect(await render(engine, 'page.ejs', { name: 'Luis' })).toBe('<p>cambiada Luis</p>');
  });

  it('a view that fails (a missing variable, a missing file) is an error, not a page', async () => {
    const engine = ejsViewEngine({ root: dir, cached: () => true });
    await expect(render(engine, 'page.ejs', {})).rejects.toMatchObject({ message: expect.stringContaining('name is not defined') });
    await expect(render(engine, 'missing.ejs', {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
