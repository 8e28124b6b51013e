/**
 * The one place where the coordinator's pages put the ltik into links and forms (issue #6 decides how
 * a request under /lti authenticates; only this file and views/partials/ltik-field.ejs change then).
 * Links stay inside the tool; nothing here builds a link that leaves it.
 */
export type QueryValue = string | number | null | undefined;

export interface ToolLinks {
  /** `/lti/staff/report?ltik=…&estado=…` — `path` must start with `/lti/`. */
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
      params.set('ltik', ltik);
      for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
      return `${path}?${params.toString()}`;
    },
  };
}
