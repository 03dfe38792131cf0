import type * as http from "node:http";
import { BadParameterError } from "./api-errors";

/** What a route handler gets: the request with the version prefix gone, its path parameters decoded. */
export interface ApiContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  method: string;
  /** Path without the "/v1.NN" prefix and without the query. */
  path: string;
  /** The request's API version (the newest when the path had no prefix). */
  version: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type RouteHandler = (ctx: ApiContext) => Promise<void>;

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
}

/**
 * A tiny router over Docker's path templates. `{id}` matches one path
 * segment; `{name*}` matches one or more, slashes included, so image names
 * such as "localhost:5000/team/app:1" fit `/images/{name*}/json` — the
 * greedy match leaves exactly the last segment ("json") to the literal, as
 * Docker's own `{name:.*}` routes do. Routes are tried in the order added:
 * add exact paths (`/images/json`) before templates that could swallow them.
 * Resource families add their routes in their own files
 * (system-routes.ts, image-routes.ts, container-routes.ts, …).
 */
export class ApiRouter {
  private readonly routes: Route[] = [];

  get(template: string, handler: RouteHandler): this {
    return this.add("GET", template, handler);
  }

  head(template: string, handler: RouteHandler): this {
    return this.add("HEAD", template, handler);
  }

  post(template: string, handler: RouteHandler): this {
    return this.add("POST", template, handler);
  }

  delete(template: string, handler: RouteHandler): this {
    return this.add("DELETE", template, handler);
  }

  add(method: string, template: string, handler: RouteHandler): this {
    const names: string[] = [];
    const source = template
      .split("/")
      .map((segment) => {
        const param = /^\{(\w+)(\*?)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(param[1]);
        return param[2] ? "(.+)" : "([^/]+)";
      })
      .join("/");
    this.routes.push({ method, template, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** The route for a method and a (raw, still percent-encoded) path, with its parameters decoded; undefined when none fits. */
  match(method: string, path: string): { handler: RouteHandler; params: Record<string, string>; template: string } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1]);
        } catch {
          throw new BadParameterError(`The path parameter "${m[i + 1]}" is not valid percent-encoding.`);
        }
      });
      return { handler: route.handler, params, template: route.template };
    }
    return undefined;
  }
}
