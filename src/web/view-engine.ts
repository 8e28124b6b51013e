/**
 * The EJS engine of the tool's views. With Express's `view cache` on (production), each view is
 * compiled once and its template function called directly: `ejs.renderFile` re-reads its options
 * and copies the view's data on every render (a measurable share of a panel view, issue #8).
 * Views include partials by absolute name ('/partials/head'), resolved against the views folder:
 * a relative include made ejs probe the disk (fs.existsSync) on every include of every render.
 * Options are given here, not through 'view options' (ejs reads those from a view variable named
 * `settings`, which some views use for the course's settings).
 */
import fs from 'node:fs';
import ejs from 'ejs';

type Done = (err: Error | null, html?: string) => void;

export function ejsViewEngine(options: { root: string; cached: () => boolean }): (file: string, data: object, done: Done) => void {
  const compiled = new Map<string, ejs.TemplateFunction>();
  return (file, data, done) => {
    let html: string;
    try {
      const cache = options.cached();
      let template = cache ? compiled.get(file) : undefined;
      if (!template) {
        template = ejs.compile(fs.readFileSync(file, 'utf8'), { filename: file, root: options.root, cache });
        if (cache) compiled.set(file, template);
      }
      html = template(data as ejs.Data);
    } catch (error) {
      done(error as Error); // ejs and fs throw Errors; passed on as they are (their code, their stack)
      return;
    }
    done(null, html);
  };
}
