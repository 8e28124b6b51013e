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

  it('a partial sees the including view\'s data plus what the include passes, at any depth, and changes nothing in the view', async () => {
    fs.writeFileSync(path.join(dir, 'partials', 'badge.ejs'), '<b><%= label %> · <%= name %></b>');
    fs.writeFileSync(path.join(dir, 'partials', 'card.ejs'), "<div><%= title %>:<%- include('/partials/badge', { label: 'RUN' }) %></div>");
    fs.writeFileSync(path.join(dir, 'nested.ejs'), "<%- include('/partials/card', { title: 'Sesión' }) %><p><%= title %> <%= typeof label %></p>");
    const engine = ejsViewEngine({ root: dir, cached: () => true });
    expect(await render(engine, 'nested.ejs', { name: 'Ana', title: 'Panel' })).toBe('<div>Sesión:<b>RUN · Ana</b></div><p>Panel undefined</p>');
  });

  it('partials follow the view cache too: compiled once with it on, read again on every include with it off', async () => {
    let cache = true;
    const engine = ejsViewEngine({ root: dir, cached: () => cache });
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toBe('<h1>Asistencia SENCE</h1><p>Ana</p>');
    fs.writeFileSync(path.join(dir, 'partials', 'head.ejs'), '<h2><%= title %></h2>');
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toBe('<h1>Asistencia SENCE</h1><p>Ana</p>');
    cache = false;
    expect(await render(engine, 'page.ejs', { name: 'Ana' })).toBe('<h2>Asistencia SENCE</h2><p>Ana</p>');
  });

  it('a partial named relatively, or one that fails, is an error that names it', async () => {
    const engine = ejsViewEngine({ root: dir, cached: () => true });
    fs.writeFileSync(path.join(dir, 'relative.ejs'), "<%- include('partials/head', { title: 'x' }) %>");
    await expect(render(engine, 'relative.ejs', {})).rejects.toMatchObject({ message: expect.stringContaining('include the partial "partials/head" by its absolute name') });
    fs.writeFileSync(path.join(dir, 'partials', 'broken.ejs'), '<p><%= missing %></p>');
    fs.writeFileSync(path.join(dir, 'uses-broken.ejs'), "<%- include('/partials/broken') %>");
    await expect(render(engine, 'uses-broken.ejs', {})).rejects.toMatchObject({ message: expect.stringMatching(/broken\.ejs[\s\S]*missing is not defined/) });
  });

  it('a view that fails (a missing variable, a missing file) is an error, not a page', async () => {
    const engine = ejsViewEngine({ root: dir, cached: () => true });
    await expect(render(engine, 'page.ejs', {})).rejects.toMatchObject({ message: expect.stringContaining('name is not defined') });
    await expect(render(engine, 'missing.ejs', {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
