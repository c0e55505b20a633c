import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, get, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_CSP, WEB_DIST_DIR, webPage } from "../../src/http/web.ts";

/** src/http/web.ts on a bare HTTP server, over a build it is given (or none): what the page's server does. */
let dir: string;
const servers: Server[] = [];

async function serve(distDir: string): Promise<string> {
  const handler = webPage(distDir);
  const server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(418).end("not the page's");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "iepgen-web-"));
  await mkdir(join(dir, "dist", "assets"), { recursive: true });
  await writeFile(join(dir, "dist", "index.html"), `<!doctype html><title>t</title>${"<p>page</p>".repeat(100)}`);
  await writeFile(join(dir, "dist", "assets", "index-abc123.js"), `console.log(${JSON.stringify("x".repeat(2000))});`);
  await writeFile(join(dir, "dist", "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
});

afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("serving the web page", () => {
  it("answers 503 saying how to build it when there is no build, and leaves other paths alone", async () => {
    const url = await serve(join(dir, "missing"));
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/npm install/);
    expect((await fetch(`${url}/graphql`)).status).toBe(418);
    expect((await fetch(`${url}/healthz`)).status).toBe(418);
    expect((await fetch(`${url}/`, { method: "POST" })).status).toBe(418);
  });

  it("serves index.html (no-cache, CSP), assets (immutable), gzip when asked, HEAD without a body, 304 on a matching ETag", async () => {
    const url = await serve(join(dir, "dist"));
    const index = await fetch(`${url}/`, { headers: { "accept-encoding": "identity" } });
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toBe(WEB_CSP);
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    expect(await index.text()).toContain("<p>page</p>");

    // Read raw (fetch would decompress): the gzip body as sent.
    const raw = await new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      get(`${url}/assets/index-abc123.js`, { headers: { "accept-encoding": "gzip" } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (part: Buffer) => parts.push(part));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
      }).on("error", reject);
    });
    expect(raw.headers["content-encoding"]).toBe("gzip");
    expect(raw.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(raw.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(gunzipSync(raw.body).toString()).toMatch(/^console\.log\("x+"\);$/);

    const head = await fetch(`${url}/favicon.svg`, { method: "HEAD" });
    expect(head.headers.get("content-type")).toBe("image/svg+xml");
    expect(await head.text()).toBe("");
    const again = await fetch(`${url}/index.html`, { headers: { "if-none-match": index.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("serves the real build (web/dist): index.html links hashed, brotli-compressed, immutable assets", async () => {
    const url = await serve(WEB_DIST_DIR);
    const index = await fetch(`${url}/`, { headers: { "accept-encoding": "br" } });
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await index.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.some((path) => path.endsWith(".js")) && assets.some((path) => path.endsWith(".css"))).toBe(true);
    for (const path of assets) {
      const asset = await fetch(`${url}${path}`, { headers: { "accept-encoding": "br, gzip" } });
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get("content-encoding"), path).toBe("br");
      expect(asset.headers.get("cache-control"), path).toBe("public, max-age=31536000, immutable");
    }
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|style=|https?:\/\//);
  });

  it("never serves a file outside the build", async () => {
    const url = await serve(join(dir, "dist"));
    await writeFile(join(dir, "secret.txt"), "secret");
    for (const path of ["/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/secret.txt"]) {
      const response = await fetch(`${url}${path}`);
      expect(await response.text(), path).not.toBe("secret");
    }
  });
});
