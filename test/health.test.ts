import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminQuery } from "./helpers/database.ts";
import { startTestStack, type TestStack } from "./helpers/stack.ts";

describe("/healthz", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  it("answers 200 with JSON when the database is reachable and the worker runs", async () => {
    const response = await fetch(`${stack.httpUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toEqual({
      ok: true,
      database: "up",
      worker: "running",
      workerRestarts: 0,
      eventLoop: { p50Ms: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number) },
      gemini: { mode: "simulator", breaker: "closed" },
    });
  });

  it("is also reachable through the app directly, without a socket", async () => {
    const response = await stack.runtime.app.fetch("http://app.local/healthz");
    expect(response.status).toBe(200);
  });

  it("answers 503 once this process's worker has stopped", async () => {
    await stack.runtime.worker!.stop();
    const response = await fetch(`${stack.httpUrl}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ok: false, database: "up", worker: "stopped" });
  });

  it("answers 503 when the database is unreachable", async () => {
    await adminQuery(`alter database ${stack.db.name} with allow_connections false`);
    await adminQuery("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", [stack.db.name]);
    try {
      const check = await fetch(`${stack.httpUrl}/healthz`);
      const body = await check.json();
      expect(check.status).toBe(503);
      expect(body.database).toBe("down");
    } finally {
      await adminQuery(`alter database ${stack.db.name} with allow_connections true`);
    }
  });
});
