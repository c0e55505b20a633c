import { Duplex } from "node:stream";
import zlib from "node:zlib";
import type { Plugin } from "graphql-yoga";

type Encoding = "br" | "gzip";

/** Bodies smaller than this (by Content-Length) are sent as they are. */
const MIN_BYTES = 1024;
/** Streamed responses: compressing them would hold events back in the compressor's buffer. */
const STREAMING_TYPES = ["text/event-stream", "multipart/mixed"];

/**
 * The encoding to use for an `Accept-Encoding` header: br, else gzip, honouring `q=0`
 * (and `*`); undefined when neither is acceptable.
 */
export function negotiateEncoding(header: string | null): Encoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const weight = q ? Number(q.slice(2)) : 1;
    if (name) weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (name: Encoding) => weights.get(name) ?? weights.get("*") ?? 0;
  return (["br", "gzip"] as const).filter((name) => weightOf(name) > 0).sort((a, b) => weightOf(b) - weightOf(a))[0];
}

function compressor(encoding: Encoding): Duplex {
  return encoding === "br"
    ? zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } })
    : zlib.createGzip({ level: 6 });
}

function compressible(response: Response): boolean {
  if (!response.body || response.headers.has("content-encoding")) return false;
  const type = response.headers.get("content-type") ?? "";
  if (STREAMING_TYPES.some((streaming) => type.includes(streaming))) return false;
  if (response.headers.get("content-disposition")?.startsWith("attachment")) return false;
  const length = response.headers.get("content-length");
  return length === null || Number(length) >= MIN_BYTES;
}

/**
 * Compresses HTTP responses (GraphQL results, the GraphiQL page, /healthz) with br or gzip as
 * the client's `Accept-Encoding` allows, through node:zlib off the event loop (brotli at quality
 * 5: the ~9 MB GraphiQL page compresses in well under a second). SSE and multipart streams,
 * downloads (`Content-Disposition: attachment`: originals, sent byte for byte) and bodies under 1 KB
 * are left alone; `Vary: Accept-Encoding` is always set.
 */
export function compressionPlugin(): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      if (!response.body) return;
      response.headers.append("vary", "Accept-Encoding");
      const encoding = negotiateEncoding(request.headers.get("accept-encoding"));
      if (!encoding || !compressible(response)) return;
      const headers = new fetchAPI.Headers(response.headers);
      headers.set("content-encoding", encoding);
      headers.delete("content-length");
      const body = response.body.pipeThrough(Duplex.toWeb(compressor(encoding)) as TransformStream<Uint8Array, Uint8Array>);
      setResponse(new fetchAPI.Response(body, { status: response.status, statusText: response.statusText, headers }));
    },
  };
}
