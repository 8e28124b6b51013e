/**
 * The one place where the coordinator's pages build links between tool pages. Links carry no ltik:
 * public/tool-nav.js posts every link and GET form under /lti/ with the page's ltik and course in the
 * body (issue #6: the ltik never sits in a URL, a history or a log), and the server serves such a
 * navigation POST as the GET of the same URL. Links stay inside the tool.
 */
export type QueryValue = string | number | null | undefined;

export interface ToolLinks {
  /** `/lti/staff/report?estado=…` — `path` must start with `/lti/`. */
  href(path: string, query?: Record<string, QueryValue>): string;
  /** The hidden field value for POST forms (rendered by partials/ltik-field). */
  ltik: string;
}

export function toolLinks(ltik: string): ToolLinks {
  return {
    ltik,
    href(path, query = {}) {
      if (!path.startsWith('/lti/') && path !== '/lti') throw new Error(`tool link outside /lti: ${path}`);
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
      const q = params.toString();
      return q ? `${path}?${q}` : path;
    },
  };
}
