import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { negotiateEncoding } from "./compression.ts";

/** Where `npm install` / `npm start` build the page (scripts/build-web.ts). */
export const WEB_DIST_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

/**
 * The page's Content-Security-Policy: everything from this origin only (graphql-ws included:
 * `connect-src 'self'` covers ws: and wss: to the same host), no inline script or style, no frames.
 */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
  ".woff2": "font/woff2",
};
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".svg", ".json", ".txt", ".map"]);

interface Asset {
  type: string;
  etag: string;
  cacheControl: string;
  bodies: { identity: Buffer; br?: Buffer; gzip?: Buffer };
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Answers a request for the page or one of its assets; false when the path is not the page's. */
export type WebHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Serves the built web page (web/dist) at `/`: read and compressed (brotli and gzip) once, on the
 * first request, then from memory. `index.html` is `no-cache` (revalidated by ETag) and carries
 * the CSP; Vite's content-hashed `/assets/*` are `immutable` for a year. Other paths are left to
 * the GraphQL app (false). Before `npm install` has built the page, `/` answers 503 saying so.
 */
export function webPage(distDir: string = WEB_DIST_DIR): WebHandler {
  let assets: Promise<Map<string, Asset> | undefined> | undefined;
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const pathname = new URL(req.url ?? "/", "http://page").pathname;
    const key = pathname === "/" ? "/index.html" : pathname;
    if (key !== "/index.html" && !key.startsWith("/assets/") && !/^\/[\w.-]+\.(?:svg|png|ico|txt)$/.test(key)) return false;
    assets ??= loadAssets(distDir);
    void assets.then(
      (loaded) => send(req, res, key, loaded),
      (error: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`could not read the web page: ${String(error)}`),
    );
    return true;
  };
}

function send(req: IncomingMessage, res: ServerResponse, key: string, loaded: Map<string, Asset> | undefined): void {
  if (!loaded) {
    res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" })
      .end("The web page is not built: `npm install` (or `npm start`) builds it into web/dist.\n");
    return;
  }
  const asset = loaded.get(key);
  if (!asset) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    return;
  }
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "cache-control": asset.cacheControl,
    etag: asset.etag,
    vary: "Accept-Encoding",
    "x-content-type-options": "nosniff",
  };
  if (key === "/index.html") Object.assign(headers, { "content-security-policy": WEB_CSP, "referrer-policy": "no-referrer", "x-frame-options": "DENY" });
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  const encoding = negotiateEncoding(req.headers["accept-encoding"] ?? null);
  const body = (encoding && asset.bodies[encoding]) || asset.bodies.identity;
  if (body !== asset.bodies.identity) headers["content-encoding"] = encoding!;
  headers["content-length"] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Every file of the build, keyed by URL path; undefined when there is no build. */
async function loadAssets(distDir: string): Promise<Map<string, Asset> | undefined> {
  let files: string[];
  try {
    files = (await readdir(distDir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
      .map((entry) => join(entry.parentPath, entry.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (!files.some((file) => relative(distDir, file) === "index.html")) return undefined;
  const assets = new Map<string, Asset>();
  await Promise.all(files.map(async (file) => {
    const path = `/${relative(distDir, file).split(sep).join("/")}`;
    assets.set(path, await loadAsset(file, path));
  }));
  return assets;
}

async function loadAsset(file: string, path: string): Promise<Asset> {
  const identity = await readFile(file);
  const extension = extname(file);
  const bodies: Asset["bodies"] = { identity };
  if (COMPRESSIBLE.has(extension) && identity.length >= 512) {
    [bodies.br, bodies.gzip] = await Promise.all([
      brotli(identity, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
      gzip(identity, { level: 9 }),
    ]);
  }
  return {
    type: TYPES[extension] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(identity).digest("base64url").slice(0, 22)}"`,
    cacheControl: path === "/index.html" ? "no-cache" : path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "public, max-age=3600",
    bodies,
  };
}
