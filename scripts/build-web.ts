import { readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The web page's sources and where the build goes. */
export const WEB_DIR = fileURLToPath(new URL("../web/", import.meta.url));
const DIST_DIR = join(WEB_DIR, "dist");
/** Written after a successful build: its mtime says when web/dist was last built. */
const STAMP = join(DIST_DIR, ".built");
const SKIPPED = new Set(["dist", "node_modules"]);
/** Outside web/ but part of the build: dependencies, and the IEP content schema (its field order). */
const EXTRA_SOURCES = ["../package-lock.json", "../src/iep/content.ts"];

/** The newest mtime (ms) of the page's sources (web/ except dist/) and EXTRA_SOURCES. */
async function newestSource(dir = WEB_DIR): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (dir === WEB_DIR && (SKIPPED.has(entry.name) || entry.name.startsWith("dist."))) continue;
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? await newestSource(path) : (await stat(path)).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  if (dir === WEB_DIR) {
    for (const other of EXTRA_SOURCES) newest = Math.max(newest, (await stat(fileURLToPath(new URL(other, import.meta.url)))).mtimeMs);
  }
  return newest;
}

async function builtAt(): Promise<number> {
  try {
    return (await stat(STAMP)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Whether web/dist is missing or older than a source of the page. */
export async function webIsStale(): Promise<boolean> {
  return (await builtAt()) < (await newestSource());
}

/**
 * Builds web/ into web/dist with Vite (web/vite.config.ts) when the build is missing or older than
 * its sources (or always, with `force`). Returns whether it built. Used by `npm install` (prepare),
 * `npm start`/`npm run api` and the tests' global setup: never a separate step to remember.
 */
export async function buildWebIfStale(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && !(await webIsStale())) return false;
  const started = performance.now();
  const { build } = await import("vite");
  // Built aside and swapped in, so a server (or a concurrent build) never reads a half-written dist.
  const staging = `${DIST_DIR}.${process.pid}.${Date.now()}`;
  try {
    await build({ configFile: join(WEB_DIR, "vite.config.ts"), configLoader: "native", logLevel: options.quiet ? "warn" : "info", build: { outDir: staging, emptyOutDir: true } });
    await writeFile(join(staging, ".built"), `${new Date().toISOString()}\n`);
    const old = `${staging}.old`;
    await rename(DIST_DIR, old).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    await rename(staging, DIST_DIR).catch((error: NodeJS.ErrnoException) => {
      // A concurrent build swapped its own in first: just as fresh.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!options.quiet) process.stderr.write(`web page built into web/dist in ${Math.round(performance.now() - started)} ms\n`);
  return true;
}

if (import.meta.main) {
  const force = process.argv.includes("--force");
  buildWebIfStale({ force, quiet: process.argv.includes("--quiet") }).catch((error: unknown) => {
    process.stderr.write(`could not build the web page: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
