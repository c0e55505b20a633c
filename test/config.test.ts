import type { ChildProcess } from "node:child_process";
import { GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseEnv } from "../src/env.ts";
import { resolveGemini, SIMULATOR_API_KEY, type ResolvedGemini } from "../src/gemini/config.ts";
import { createLogger } from "../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { runNode, startNode } from "./helpers/process.ts";
import { waitFor } from "./helpers/stack.ts";

const SECRET = "config-test-secret-that-is-long-enough-0123456789";
const logger = createLogger("silent", "stderr");




describe("parseEnv", () => {
  it("gives the documented defaults for an empty environment", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      NODE_ENV: "development",
      HOST: "0.0.0.0",
      PORT: 4000,
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/iepgen",
      DATABASE_POOL_MAX: 10,
      LOG_LEVEL: "info",
      WORKER_CONCURRENCY: 4,
      EVIDENCE_MAX_CHARS: 200_000,
      EVIDENCE_MAX_BYTES: 25 * 1024 * 1024,
      EVIDENCE_MAX_PAGES: 200,
      EXTRACTION_THREADS: 2,
      EXTRACTION_BUDGET_MS: 300_000,
      EVIDENCE_MAX_IMAGE_PIXELS: 50_000_000,
      EVIDENCE_MAX_UNCOMPRESSED_BYTES: 200 * 1024 * 1024,
      GEMINI_MODEL: "gemini-2.5-flash",
      GEMINI_EMBEDDING_MODEL: "gemini-embedding-001",
      GEMINI_TIMEOUT_MS: 120_000,
      GEMINI_MAX_RETRIES: 3,
      GEMINI_SIMULATOR_PORT: 4010,
      GEMINI_SIMULATOR_LATENCY_MS: 0,
      WORKER_HEARTBEAT_MS: 5000,
      WORKER_DEAD_AFTER_MS: 20_000,
      RETRY_BASE_DELAY_MS: 2000,
      OUTAGE_RETRY_DELAY_MS: 30_000,
      usingDevJwtSecret: true,
    });
    expect(env.WORKER_HEALTH_PORT).toBeUndefined();
    expect(env.GEMINI_API_KEY).toBeUndefined();
    expect(env.GEMINI_BASE_URL).toBeUndefined();
    // The development secret is usable for HS256 (≥ 32 chars).
    expect(env.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  it("parses numbers and trims optional strings; blank optionals count as unset", () => {
    const env = parseEnv({
      PORT: "0",
      GEMINI_SIMULATOR_PORT: "0",
      JWT_SECRET: `  ${SECRET}  `,
      GEMINI_API_KEY: "   ",
      GEMINI_BASE_URL: " http://127.0.0.1:9/ ",
      NODE_ENV: "test",
    });
    expect(env.PORT).toBe(0);
    expect(env.GEMINI_SIMULATOR_PORT).toBe(0);
    expect(env.JWT_SECRET).toBe(SECRET);
    expect(env.usingDevJwtSecret).toBe(false);
    expect(env.GEMINI_API_KEY).toBeUndefined();
    expect(env.GEMINI_BASE_URL).toBe("http://127.0.0.1:9/");
    expect(env.NODE_ENV).toBe("test");
  });

  it("throws one error naming every bad variable", () => {
    let message = "";
    try {
      parseEnv({ PORT: "abc", NODE_ENV: "staging", JWT_SECRET: "too-short" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid environment:/);
    expect(message).toMatch(/^\s+PORT: /m);
    expect(message).toMatch(/^\s+NODE_ENV: /m);
    expect(message).toMatch(/^\s+JWT_SECRET: .*at least 32 characters/m);
  });

  it("rejects out-of-range values", () => {
    expect(() => parseEnv({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => parseEnv({ WORKER_CONCURRENCY: "0" })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => parseEnv({ LOG_LEVEL: "verbose" })).toThrow(/LOG_LEVEL/);
  });

  it("refuses an identity provider without issuer and audience, and the public dev secret in production", () => {
    expect(() => parseEnv({ JWT_JWKS_URL: "https://idp.example/jwks" })).toThrow(/JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE/);
    expect(parseEnv({ JWT_JWKS_URL: "https://idp.example/jwks", JWT_ISSUER: "https://idp.example", JWT_AUDIENCE: "iepgen" }).JWT_JWKS_URL)
      .toBe("https://idp.example/jwks");
    const devSecret = parseEnv({}).JWT_SECRET;
    expect(() => parseEnv({ NODE_ENV: "production", JWT_SECRET: devSecret, GEMINI_API_KEY: "k" })).toThrow(/public development secret/);
    expect(parseEnv({ JWT_MAX_TTL: "90m" }).JWT_MAX_TTL).toBe(5400);
    expect(() => parseEnv({ JWT_MAX_TTL: "forever" })).toThrow(/JWT_MAX_TTL/);
  });

  it("refuses a dead-worker threshold a live worker could cross between two heartbeats", () => {
    expect(() => parseEnv({ WORKER_HEARTBEAT_MS: "5000", WORKER_DEAD_AFTER_MS: "8000" })).toThrow(/WORKER_DEAD_AFTER_MS must be at least twice/);
    expect(parseEnv({ WORKER_HEARTBEAT_MS: "300", WORKER_DEAD_AFTER_MS: "2000" }).WORKER_DEAD_AFTER_MS).toBe(2000);
  });

  it("requires JWT_SECRET in production", () => {
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/JWT_SECRET.*required when NODE_ENV=production/);
    expect(() => parseEnv({ NODE_ENV: "production", JWT_SECRET: "   " })).toThrow(/JWT_SECRET/);
    // ...and reports it alongside other problems.
    const error = (() => {
      try {
        parseEnv({ NODE_ENV: "production", PORT: "abc" });
      } catch (caught) {
        return (caught as Error).message;
      }
      return "";
    })();
    expect(error).toMatch(/PORT/);
    expect(error).toMatch(/JWT_SECRET/);
    const env = parseEnv({ NODE_ENV: "production", JWT_SECRET: SECRET });
    expect(env.usingDevJwtSecret).toBe(false);
    expect(env.JWT_SECRET).toBe(SECRET);
  });
});

describe("resolveGemini", () => {
  const started: ResolvedGemini[] = [];

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    for (const resolved of started) await resolved.simulator?.close();
  });

  it("rejects in production without GEMINI_API_KEY, even with GEMINI_BASE_URL", async () => {
    await expect(resolveGemini(parseEnv({ NODE_ENV: "production", JWT_SECRET: SECRET }), logger)).rejects.toThrow(/GEMINI_API_KEY/);
    await expect(
      resolveGemini(parseEnv({ NODE_ENV: "production", JWT_SECRET: SECRET, GEMINI_BASE_URL: "http://127.0.0.1:9" }), logger),
    ).rejects.toThrow(/GEMINI_API_KEY/);
  });

  it("targets Google with a key", async () => {
    const resolved = await resolveGemini(parseEnv({ NODE_ENV: "production", JWT_SECRET: SECRET, GEMINI_API_KEY: "real-key" }), logger);
    expect(resolved.simulator).toBeUndefined();
    expect(resolved.config).toMatchObject({ apiKey: "real-key", simulated: false, model: "gemini-2.5-flash", embeddingModel: "gemini-embedding-001" });
    expect(resolved.config.baseUrl).toBeUndefined();
  });

  it("uses GEMINI_BASE_URL with a key when it is set", async () => {
    const resolved = await resolveGemini(parseEnv({ GEMINI_API_KEY: "real-key", GEMINI_BASE_URL: "https://proxy.example.org" }), logger);
    expect(resolved.simulator).toBeUndefined();
    expect(resolved.config).toMatchObject({ apiKey: "real-key", baseUrl: "https://proxy.example.org", simulated: false });
  });

  it("uses GEMINI_BASE_URL as a simulator without a key outside production", async () => {
    const resolved = await resolveGemini(parseEnv({ GEMINI_BASE_URL: "http://127.0.0.1:4010" }), logger);
    expect(resolved.simulator).toBeUndefined();
    expect(resolved.config).toMatchObject({ apiKey: SIMULATOR_API_KEY, baseUrl: "http://127.0.0.1:4010", simulated: true });
  });

  it("starts an in-process simulator, announced by a banner, without a key or base URL", async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const resolved = await resolveGemini(parseEnv({}), logger);
    started.push(resolved);
    vi.restoreAllMocks();

    expect(resolved.simulator).toBeDefined();
    expect(resolved.config.simulated).toBe(true);
    expect(resolved.config.apiKey).toBe(SIMULATOR_API_KEY);
    expect(resolved.config.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(resolved.config.baseUrl).toBe(resolved.simulator?.url);
    expect(writes.join("")).toContain("GEMINI SIMULATOR IN USE");
    expect(writes.join("")).toContain(resolved.config.baseUrl);

    const ai = new GoogleGenAI({ apiKey: resolved.config.apiKey, httpOptions: { baseUrl: resolved.config.baseUrl, apiVersion: "v1beta" } });
    const response = await ai.models.embedContent({
      model: resolved.config.embeddingModel,
      contents: ["config test"],
      config: { outputDimensionality: 768 },
    });
    expect(response.embeddings?.[0]?.values).toHaveLength(768);

    await resolved.simulator?.close();
    await expect(fetch(`${resolved.config.baseUrl}/v1beta/models`)).rejects.toThrow();
  });
});

describe("node src/main.ts", () => {
  let db: TestDatabase;
  let running: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterEach(() => {
    if (running && running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
    running = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("exits 2 with usage for an unknown mode", async () => {
    const result = await runNode(["src/main.ts", "bogus"], { DATABASE_URL: db.url, LOG_LEVEL: "warn" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: node src/main.ts all|api|worker");
    expect(result.stdout).toBe("");
  });

  it("exits 1 naming each bad variable when the environment is invalid", async () => {
    const result = await runNode(["src/main.ts", "all"], { DATABASE_URL: db.url, PORT: "abc", JWT_SECRET: "short" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("iepgen failed to start: Invalid environment");
    expect(result.stderr).toMatch(/PORT:/);
    expect(result.stderr).toMatch(/JWT_SECRET:/);
  }, 90_000);

  it("refuses to start in production without GEMINI_API_KEY", async () => {
    const result = await runNode(["src/main.ts", "all"], {
      NODE_ENV: "production",
      JWT_SECRET: SECRET,
      DATABASE_URL: db.url,
      LOG_LEVEL: "warn",
      PORT: "0",
      HOST: "127.0.0.1",
    });
    expect(result.signal).toBeNull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/iepgen failed to start: .*GEMINI_API_KEY is required when NODE_ENV=production/);
    expect(result.stderr).not.toContain("iepgen ready");
    expect(result.stderr).not.toContain("GEMINI SIMULATOR IN USE");
  }, 90_000);

  it("logs an unhandled promise rejection with context and keeps serving", async () => {
    // A preload that rejects a promise nobody handles whenever the process gets SIGUSR2.
    const preload = `data:text/javascript,process.on("SIGUSR2", () => { Promise.reject(new Error("boom: nobody handles this")); });`;
    const main = await startNode(["--import", preload, "src/main.ts", "all"],
      { DATABASE_URL: db.url, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", JWT_SECRET: SECRET },
      { stream: "stderr", pattern: /GraphiQL at (http:\/\/\S+\/graphql)/ });
    running = main.child;
    main.child.kill("SIGUSR2");
    await waitFor(async () => main.stdout().includes("boom: nobody handles this"), 10_000, "the rejection to be logged");
    const line = JSON.parse(main.stdout().split("\n").find((l) => l.includes("boom: nobody handles this"))!);
    expect(line).toMatchObject({ level: 50, mode: "all", msg: expect.stringContaining("unhandled promise rejection") });
    expect(line.err.message).toBe("boom: nobody handles this");
    expect(line.err.stack).toContain("Error: boom");

    expect((await fetch(main.ready.replace(/\/graphql$/, "/healthz"))).status).toBe(200);
    main.child.kill("SIGTERM");
    expect(await main.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("starts in development on PORT=0 with the simulator, serves /healthz and GraphQL, and stops cleanly on SIGTERM", async () => {
    const main = await startNode(["src/main.ts", "all"],
      { DATABASE_URL: db.url, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", JWT_SECRET: SECRET },
      { stream: "stderr", pattern: /GraphiQL at (http:\/\/\S+\/graphql)/ });
    running = main.child;
    const url = main.ready;
    expect(main.stderr()).toContain("GEMINI SIMULATOR IN USE");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toMatch(/:0\//);

    const health = await fetch(url.replace(/\/graphql$/, "/healthz"));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, database: "up", worker: "running", gemini: { mode: "simulator" } });
    // GraphQL is served, and it demands a token.
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });

    main.child.kill("SIGTERM");
    const { code, signal } = await main.exited;
    expect({ code, signal, stdout: main.stdout().slice(-500), stderr: main.stderr().slice(-500) }).toMatchObject({ code: 0, signal: null });
  }, 90_000);
});
