import type { ChildProcess } from "node:child_process";
import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startGeminiSimulator, type GeminiSimulator } from "../src/gemini/simulator/server.ts";
import { startNode } from "./helpers/process.ts";

const GENERATION_MODEL = "gemini-2.5-flash";
const EMBEDDING_MODEL = "gemini-embedding-001";
const CHILD_TEST_MS = 60_000;

interface ControlResponse {
  status: number;
  headers: Headers;
  json: any;
}

/** One real HTTP call to a control route; `body` is sent as-is when a string, else JSON-encoded. */
async function control(baseUrl: string, method: string, path: string, body?: unknown): Promise<ControlResponse> {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === "" ? undefined : JSON.parse(text) };
}

function sdk(url: string): GoogleGenAI {
  return new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: url, apiVersion: "v1beta" } });
}

async function caughtError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

/** A raw embedContent call, for fast status sequences. */
async function embedStatus(url: string): Promise<number> {
  const response = await fetch(`${url}/v1beta/models/${EMBEDDING_MODEL}:embedContent`, {
    method: "POST",
    body: JSON.stringify({ content: { parts: [{ text: "x" }] }, outputDimensionality: 8 }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("control API enabled (in-process, controlApi: true)", () => {
  let sim: GeminiSimulator;
  let ai: GoogleGenAI;
  const generate = () => ai.models.generateContent({ model: GENERATION_MODEL, contents: "Draft a reading goal." });
  const embed = () => ai.models.embedContent({ model: EMBEDDING_MODEL, contents: ["x"], config: { outputDimensionality: 8 } });
  const call = (method: string, path: string, body?: unknown) => control(sim.url, method, path, body);

  beforeAll(async () => {
    sim = await startGeminiSimulator({ controlApi: true });
    ai = sdk(sim.url);
  });

  afterEach(async () => {
    expect((await call("DELETE", "/_simulator/faults")).status).toBe(204);
    expect((await call("DELETE", "/_simulator/requests")).status).toBe(204);
    expect((await call("PUT", "/_simulator/latency", { ms: 0 })).status).toBe(200);
    expect((await call("DELETE", "/_simulator/quota")).status).toBe(204);
  });

  afterAll(async () => {
    await sim.close();
  });

  it("POST /_simulator/faults stores a fault (201), GET lists it, and the SDK sees it once", async () => {
    const created = await call("POST", "/_simulator/faults", { kind: "rate_limit", retryAfterSeconds: 7, operation: "generate" });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: expect.any(Number), kind: "rate_limit", retryAfterSeconds: 7, operation: "generate", remaining: 1 });
    expect((await call("GET", "/_simulator/faults")).json).toEqual({ faults: [created.json] });

    await expect(embed()).resolves.toBeDefined();
    const error = await caughtError(generate());
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).message).toContain('"retryDelay":"7s"');
    expect((await call("GET", "/_simulator/faults")).json).toEqual({ faults: [] });
    await expect(generate()).resolves.toBeDefined();
  });

  it("replays every kind with the same shapes as injectFault", async () => {
    const kinds = [
      { kind: "rate_limit", status: 429 },
      { kind: "server_error", status: 500 },
      { kind: "bad_request", status: 400 },
    ];
    for (const { kind, status } of kinds) {
      expect((await call("POST", "/_simulator/faults", { kind })).status).toBe(201);
      const error = await caughtError(generate());
      expect(error, kind).toBeInstanceOf(ApiError);
      expect((error as ApiError).status, kind).toBe(status);
    }
    await call("POST", "/_simulator/faults", { kind: "malformed" });
    expect(await caughtError(generate())).toBeInstanceOf(SyntaxError);
  });

  it("bad_request is Google's permanent 400 INVALID_ARGUMENT, also on streams", async () => {
    const created = await call("POST", "/_simulator/faults", { kind: "bad_request", times: 2 });
    expect(created.json).toMatchObject({ kind: "bad_request", remaining: 2 });
    const error = await caughtError(generate());
    expect(JSON.parse((error as ApiError).message)).toEqual({
      error: { code: 400, status: "INVALID_ARGUMENT", message: expect.stringContaining("Request contains an invalid argument.") },
    });
    const streamError = await caughtError(ai.models.generateContentStream({ model: GENERATION_MODEL, contents: "x" }));
    expect((streamError as ApiError).status).toBe(400);
  });

  it("fills defaults: retryAfterSeconds 1, afterChunks 1, times 1", async () => {
    expect((await call("POST", "/_simulator/faults", { kind: "rate_limit" })).json).toMatchObject({ retryAfterSeconds: 1, remaining: 1 });
    expect((await call("POST", "/_simulator/faults", { kind: "stream_cut" })).json).toMatchObject({ afterChunks: 1, remaining: 1 });
  });

  it("stream_cut cuts a stream after `afterChunks` chunks", async () => {
    await call("POST", "/_simulator/faults", { kind: "stream_cut", afterChunks: 2 });
    const stream = await ai.models.generateContentStream({ model: GENERATION_MODEL, contents: "Draft a reading goal." });
    const received: unknown[] = [];
    const error = await caughtError((async () => { for await (const chunk of stream) received.push(chunk); })());
    expect(error).toBeInstanceOf(Error);
    expect(received).toHaveLength(2);
  });

  it('`"until": "cleared"` fails every matching request until DELETE /_simulator/faults (204)', async () => {
    const created = await call("POST", "/_simulator/faults", { kind: "server_error", until: "cleared", operation: "embed" });
    expect(created.json).toEqual({ id: expect.any(Number), kind: "server_error", operation: "embed", until: "cleared" });
    for (let attempt = 0; attempt < 5; attempt++) expect(await embedStatus(sim.url)).toBe(500);
    await expect(generate()).resolves.toBeDefined();
    expect((await call("GET", "/_simulator/faults")).json.faults).toEqual([created.json]);

    const cleared = await call("DELETE", "/_simulator/faults");
    expect(cleared.status).toBe(204);
    expect(cleared.json).toBeUndefined();
    expect((await call("GET", "/_simulator/faults")).json).toEqual({ faults: [] });
    expect(await embedStatus(sim.url)).toBe(200);
  });

  it("probability + seed fails a reproducible subset of requests; misses do not use up `times`", async () => {
    const pattern = async (): Promise<number[]> => {
      const created = await call("POST", "/_simulator/faults", { kind: "server_error", until: "cleared", probability: 0.5, seed: 42 });
      expect(created.json).toMatchObject({ probability: 0.5, seed: 42, until: "cleared" });
      const statuses = [];
      for (let attempt = 0; attempt < 40; attempt++) statuses.push(await embedStatus(sim.url));
      await call("DELETE", "/_simulator/faults");
      return statuses;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);

    await call("POST", "/_simulator/faults", { kind: "server_error", times: 3, probability: 0.5, seed: 7 });
    const statuses = [];
    for (let attempt = 0; attempt < 40; attempt++) statuses.push(await embedStatus(sim.url));
    expect(statuses.filter((status) => status === 500)).toHaveLength(3);

    await call("POST", "/_simulator/faults", { kind: "server_error", until: "cleared", probability: 0 });
    expect(await embedStatus(sim.url)).toBe(200);
  });

  it.each([
    ["an unknown kind", { kind: "meteor" }],
    ["no kind", { times: 2 }],
    ["times 0", { kind: "server_error", times: 0 }],
    ["a fractional times", { kind: "server_error", times: 1.5 }],
    ["both times and until", { kind: "server_error", times: 2, until: "cleared" }],
    ["another until", { kind: "server_error", until: "forever" }],
    ["an unknown operation", { kind: "server_error", operation: "count" }],
    ["a probability above 1", { kind: "server_error", probability: 2 }],
    ["a field of another kind", { kind: "server_error", retryAfterSeconds: 3 }],
    ["a negative retry delay", { kind: "rate_limit", retryAfterSeconds: -1 }],
    ["not an object", [1, 2]],
    ["invalid JSON", "{kind:"],
  ])("rejects %s with 400 and a JSON message, storing nothing", async (_label, body) => {
    const rejected = await call("POST", "/_simulator/faults", body);
    expect(rejected.status).toBe(400);
    expect(rejected.headers.get("content-type")).toContain("application/json");
    expect(rejected.json).toEqual({ error: { code: 400, status: "INVALID_ARGUMENT", message: expect.any(String) } });
    expect(rejected.json.error.message.length).toBeGreaterThan(0);
    expect((await call("GET", "/_simulator/faults")).json).toEqual({ faults: [] });
  });

  it("GET /_simulator/requests returns the log, filters by since and operation; DELETE clears it", async () => {
    await generate();
    await embed();
    const log = await call("GET", "/_simulator/requests");
    expect(log.status).toBe(200);
    expect(log.json.next).toBe(2);
    expect(log.json.requests).toEqual([
      {
        index: 0,
        operation: "generate",
        model: GENERATION_MODEL,
        path: `/v1beta/models/${GENERATION_MODEL}:generateContent`,
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        rateLimited: false,
        body: expect.objectContaining({ contents: [{ role: "user", parts: [{ text: "Draft a reading goal." }] }] }),
      },
      expect.objectContaining({ index: 1, operation: "embed", model: EMBEDDING_MODEL }),
    ]);

    const byOperation = await call("GET", "/_simulator/requests?operation=embed");
    expect(byOperation.json.requests.map((entry: any) => entry.index)).toEqual([1]);
    expect((await call("GET", "/_simulator/requests?since=1")).json.requests.map((entry: any) => entry.index)).toEqual([1]);
    expect((await call("GET", "/_simulator/requests?since=2")).json.requests).toEqual([]);
    const since = encodeURIComponent(log.json.requests[0].at);
    expect((await call("GET", `/_simulator/requests?since=${since}`)).json.requests).toHaveLength(2);
    expect((await call("GET", "/_simulator/requests?since=2999-01-01T00:00:00Z")).json.requests).toEqual([]);
    for (const bad of ["since=yesterday", "operation=count", "limit=3"]) {
      const rejected = await call("GET", `/_simulator/requests?${bad}`);
      expect(rejected.status, bad).toBe(400);
      expect(rejected.json.error.status).toBe("INVALID_ARGUMENT");
    }

    expect((await call("DELETE", "/_simulator/requests")).status).toBe(204);
    expect((await call("GET", "/_simulator/requests")).json).toEqual({ requests: [], next: 0 });
    expect(sim.requests).toHaveLength(0);
  });

  it("PUT /_simulator/latency {ms} delays answers; a bad body is 400", async () => {
    const set = await call("PUT", "/_simulator/latency", { ms: 300 });
    expect(set).toMatchObject({ status: 200, json: { ms: 300 } });
    const started = performance.now();
    await embed();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect((await call("PUT", "/_simulator/latency", { ms: -1 })).status).toBe(400);
    expect((await call("PUT", "/_simulator/latency", {})).status).toBe(400);
  });

  it("PUT /_simulator/quota answers 429 RESOURCE_EXHAUSTED beyond rpm per sliding window, logged as rateLimited", async () => {
    expect((await call("GET", "/_simulator/quota")).json).toEqual({ quota: null });
    const set = await call("PUT", "/_simulator/quota", { rpm: 2, windowMs: 1000 });
    expect(set).toMatchObject({ status: 200, json: { rpm: 2, windowMs: 1000, rejected: 0 } });
    expect([await embedStatus(sim.url), await embedStatus(sim.url)]).toEqual([200, 200]);

    const refused = await fetch(`${sim.url}/v1beta/models/${EMBEDDING_MODEL}:embedContent`, {
      method: "POST", body: JSON.stringify({ content: { parts: [{ text: "x" }] } }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await refused.json()).error).toMatchObject({
      code: 429, status: "RESOURCE_EXHAUSTED",
      details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1s" }],
    });
    const sdkError = await caughtError(generate());
    expect((sdkError as ApiError).status).toBe(429);

    // Once the first answered request leaves the window, one more is answered.
    await vi.waitFor(async () => expect(await embedStatus(sim.url)).toBe(200), { timeout: 5000, interval: 100 });
    const log = (await call("GET", "/_simulator/requests")).json.requests as { at: string; rateLimited: boolean }[];
    const answered = log.filter((entry) => !entry.rateLimited).map((entry) => Date.parse(entry.at));
    expect(answered).toHaveLength(3);
    expect(answered[2]! - answered[0]!).toBeGreaterThanOrEqual(1000);
    expect(log.filter((entry) => entry.rateLimited).length).toBe((await call("GET", "/_simulator/quota")).json.quota.rejected);
    expect(sim.quota()).toMatchObject({ rpm: 2, windowMs: 1000 });

    for (const bad of [{ rpm: 0 }, {}, { rpm: 2, windowMs: 0 }, { rpm: 1.5 }]) {
      expect((await call("PUT", "/_simulator/quota", bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await call("DELETE", "/_simulator/quota")).status).toBe(204);
    expect((await call("GET", "/_simulator/quota")).json).toEqual({ quota: null });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => embedStatus(sim.url)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it("answers unknown control paths 404 and wrong methods 405 with Allow", async () => {
    expect((await call("GET", "/_simulator/nothing")).status).toBe(404);
    expect((await call("GET", "/_simulator")).status).toBe(404);
    const wrong = await call("PUT", "/_simulator/faults", { kind: "hang" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, POST, DELETE");
    expect((await call("GET", "/_simulator/faults")).json).toEqual({ faults: [] });
  });

  it("keeps the in-process API in step: injectFault shows up over HTTP", async () => {
    const injected = sim.injectFault({ kind: "hang" }, { operation: "stream", times: Number.POSITIVE_INFINITY });
    expect((await call("GET", "/_simulator/faults")).json).toEqual({
      faults: [{ id: injected.id, kind: "hang", operation: "stream", until: "cleared" }],
    });
  });
});

describe("control API disabled (the default)", () => {
  let sim: GeminiSimulator;

  beforeAll(async () => {
    sim = await startGeminiSimulator();
  });

  afterAll(async () => {
    await sim.close();
  });

  it("answers /_simulator/* 404 like any unknown path and stores nothing", async () => {
    const unknown = await control(sim.url, "POST", "/no/such/path", {});
    expect(unknown.status).toBe(404);
    for (const [method, path, body] of [
      ["POST", "/_simulator/faults", { kind: "server_error", until: "cleared" }],
      ["GET", "/_simulator/faults", undefined],
      ["DELETE", "/_simulator/faults", undefined],
      ["GET", "/_simulator/requests", undefined],
      ["PUT", "/_simulator/latency", { ms: 5000 }],
      ["PUT", "/_simulator/quota", { rpm: 1 }],
    ] as const) {
      const response = await control(sim.url, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.json.error.status).toBe("NOT_FOUND");
    }
    expect(sim.pendingFaults()).toEqual([]);
    expect(await embedStatus(sim.url)).toBe(200);
  });
});

describe("standalone simulator (npm run gemini:simulator) in a child process", () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    child = undefined;
  });

  it("takes a fault over HTTP that a real SDK call then sees, and logs the request", async () => {
    const simulator = await startNode(["src/gemini/simulator/main.ts"], { LOG_LEVEL: "warn", GEMINI_SIMULATOR_PORT: "0" }, {
      stream: "stdout",
      pattern: /listening at (http:\/\/\S+)/,
    });
    child = simulator.child;
    const url = simulator.ready;
    await vi.waitFor(() => expect(simulator.stdout()).toContain(`${url}/_simulator/faults`));

    const created = await control(url, "POST", "/_simulator/faults", { kind: "rate_limit", retryAfterSeconds: 3, operation: "generate" });
    expect(created.status).toBe(201);
    const error = await caughtError(sdk(url).models.generateContent({ model: GENERATION_MODEL, contents: "Draft a math goal." }));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);

    const log = await control(url, "GET", "/_simulator/requests");
    expect(log.json.requests).toEqual([
      expect.objectContaining({ operation: "generate", model: GENERATION_MODEL, path: `/v1beta/models/${GENERATION_MODEL}:generateContent` }),
    ]);
    expect((await control(url, "GET", "/_simulator/faults")).json).toEqual({ faults: [] });
    await vi.waitFor(() => expect(simulator.stdout()).toContain("with fault rate_limit"));

    simulator.child.kill("SIGTERM");
    expect(await simulator.exited).toEqual({ code: 0, signal: null });
  }, CHILD_TEST_MS);

  it("--rpm enforces a quota from the start: 429 beyond it, shown by GET /_simulator/quota", async () => {
    const simulator = await startNode(["src/gemini/simulator/main.ts", "--rpm", "2"], { LOG_LEVEL: "warn", GEMINI_SIMULATOR_PORT: "0" }, {
      stream: "stdout",
      pattern: /listening at (http:\/\/\S+)/,
    });
    child = simulator.child;
    const url = simulator.ready;
    await vi.waitFor(() => expect(simulator.stdout()).toContain("Simulated quota: 429 beyond 2 requests per 60000 ms"));
    expect([await embedStatus(url), await embedStatus(url), await embedStatus(url)]).toEqual([200, 200, 429]);
    expect((await control(url, "GET", "/_simulator/quota")).json).toEqual({ quota: { rpm: 2, windowMs: 60_000, rejected: 1 } });
    simulator.child.kill("SIGTERM");
    expect(await simulator.exited).toEqual({ code: 0, signal: null });
  }, CHILD_TEST_MS);
});
