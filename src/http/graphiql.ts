import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Plugin } from "graphql-yoga";
import { negotiateEncoding } from "./compression.ts";

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Serves the GraphiQL page (GET on the GraphQL path asking for HTML, as yoga decides) from memory:
 * rendered once and compressed once per encoding (off the event loop, on first load), instead of
 * recompressing ~9 MB on every load. Brotli quality 5: 9 MB → 1.9 MB in about 1.4 s here; quality
 * 11 would save 0.2 MB more for 48 s of CPU.
 */
export function graphiqlPlugin(graphqlPath: string, render: () => string): Plugin {
  const bodies = new Map<string, Promise<Uint8Array>>();
  const body = (encoding: "br" | "gzip" | "identity"): Promise<Uint8Array> => {
    let cached = bodies.get(encoding);
    if (!cached) {
      const page = Buffer.from(render());
      cached = encoding === "br"
        ? brotli(page, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: page.length } })
        : encoding === "gzip" ? gzip(page, { level: 6 }) : Promise.resolve(page);
      bodies.set(encoding, cached);
    }
    return cached;
  };
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== "GET" || url.pathname !== graphqlPath || !request.headers.get("accept")?.includes("text/html")) return;
      const encoding = negotiateEncoding(request.headers.get("accept-encoding")) ?? "identity";
      const headers = new fetchAPI.Headers({ "content-type": "text/html; charset=utf-8", vary: "Accept-Encoding" });
      if (encoding !== "identity") headers.set("content-encoding", encoding);
      endResponse(new fetchAPI.Response((await body(encoding)) as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    },
  };
}
