/**
 * The EJS engine of the tool's views. With Express's `view cache` on (production), each view and
 * each partial is compiled once and its template function called directly: `ejs.renderFile`
 * re-reads its options and copies the view's data on every render (a measurable share of a panel
 * view, issue #8).
 *
 * Partials are included by absolute name ('/partials/head'), resolved against the views folder, and
 * by this engine, not by ejs: ejs's own `include` copied its ~25 options, resolved the path and
 * looked up its cache on every include of every render (9 % of a panel view in the profile). The
 * views are compiled in ejs's default mode, where the template's names are looked up in its data
 * first (`with (locals)`), so a function the engine puts in the data as `include` is the one the
 * template calls. It gives the partial what ejs's did: the including template's data plus the
 * object passed (in a new object without prototype), and with the view cache off it reads the
 * partial again on every include, as it reads the view.
 *
 * Options are given here, not through 'view options' (ejs reads those from a view variable named
 * `settings`, which some views use for the course's settings).
 */
import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';

type Done = (err: Error | null, html?: string) => void;
type Data = Record<string, unknown>;
type Include = (name: string, extra?: Data) => string;

export function ejsViewEngine(options: { root: string; cached: () => boolean }): (file: string, data: object, done: Done) => void {
  const compiled = new Map<string, ejs.TemplateFunction>();

  const template = (file: string, cache: boolean): ejs.TemplateFunction => {
    let fn = cache ? compiled.get(file) : undefined;
    if (!fn) {
      fn = ejs.compile(fs.readFileSync(file, 'utf8'), { filename: file });
      if (cache) compiled.set(file, fn);
    }
    return fn;
  };

  const partialFiles = new Map<string, string>();
  const partialFile = (name: string): string => {
    let file = partialFiles.get(name);
    if (file === undefined) {
      if (!name.startsWith('/')) throw new Error(`include the partial "${name}" by its absolute name in the views folder ('/partials/…')`);
      file = path.join(options.root, name);
      if (!path.extname(file)) file += '.ejs';
      partialFiles.set(name, file);
    }
    return file;
  };

  /** Renders `file` with `data`, its `include` bound to that data (for the partials it includes). */
  const render = (file: string, data: Data, cache: boolean): string => {
    const include: Include = (name, extra) => {
      const child: Data = Object.assign(Object.create(null) as Data, data, extra);
      return render(partialFile(name), child, cache);
    };
    data.include = include;
    return template(file, cache)(data);
  };

  return (file, data, done) => {
    let html: string;
    try {
      html = render(file, data as Data, options.cached());
    } catch (error) {
      done(error as Error); // ejs and fs throw Errors; passed on as they are (their code, their stack)
      return;
    }
    done(null, html);
  };
}
