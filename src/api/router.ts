/**
 * Matches a method and path against the route table. Paths are written OpenAPI-style
 * (`/api/messages/{id}`), so the same string is the route and its OpenAPI key; a `{name}`
 * matches one non-empty path segment, decoded.
 */
export interface Routable { method: string; path: string }

export type Match<R> = { route: R; params: Record<string, string> } | { allowed: string[] } | null;

export class Router<R extends Routable> {
  private readonly compiled: { route: R; re: RegExp; names: string[] }[];

  constructor(routes: readonly R[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const re = new RegExp("^" + route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return "([^/]+)";
      }) + "$");
      return { route, re, names };
    });
  }

  match(method: string, path: string): Match<R> {
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const m = c.re.exec(path);
      if (!m) continue;
      if (c.route.method !== method) { allowed.push(c.route.method); continue; }
      const params: Record<string, string> = {};
      try {
        c.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      } catch { return { route: c.route, params: { [c.names[0] ?? "path"]: "\u0000" } }; } // bad %-escape: fails validation
      return { route: c.route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}
