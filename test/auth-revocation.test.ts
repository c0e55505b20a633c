import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { createClient as createSseClient, type Client as SseClient } from "graphql-sse";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { SecurityConfig } from "../src/security.ts";
import { listen, type ListeningServer } from "../src/server.ts";
import { authenticate, createApp } from "../src/yoga.ts";
import { generate } from "./helpers/generation.ts";
import { ADD_EVIDENCE, createStudentViaApi, startTestStack, TEST_JWT_SECRET, waitFor, type Tenant, type TestStack } from "./helpers/stack.ts";

const EVIDENCE_STATUS = /* GraphQL */ `
  subscription ($studentId: ID!) { evidenceStatusChanged(studentId: $studentId) { id status } }
`;
const GENERATION_EVENTS = /* GraphQL */ `
  subscription ($id: ID!) { generationEvents(id: $id) { seq status } }
`;
const BATCH_PROGRESS = /* GraphQL */ `
  subscription ($id: ID!) { batchProgress(id: $id) { total queued done } }
`;
const GENERATE_IEPS = /* GraphQL */ `
  mutation ($input: GenerateIepsInput!) {
    generateIeps(input: $input) { __typename ... on GenerateIepsSuccess { batch { id } } ... on Error { message } }
  }
`;
const IDP_ISSUER = "https://idp.example.test";
const IDP_AUDIENCE = "iepgen-api";
const ALLOWED_ORIGIN = "https://app.example.org";
const FOREIGN_ORIGIN = "https://evil.example.net";

type Result = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
type Closed = { code: number; reason: string };

/** One open subscription: every result it delivered, and a promise of when (and whether) it completed. */
interface Stream {
  results: Result[];
  /** Resolves (never rejects) when the stream completed, or with `error` when it failed instead. */
  ended: Promise<{ results: Result[]; at: number; error?: unknown }>;
}

/** Every subscription field, with ids of open work a student's school owns (it stays open: no worker runs). */
interface OpenWork {
  studentId: string;
  generationId: string;
  batchId: string;
}

function subscriptionsFor(work: OpenWork) {
  return [
    { name: "evidenceStatusChanged", request: { query: EVIDENCE_STATUS, variables: { studentId: work.studentId } }, firstAtOnce: false },
    { name: "generationEvents", request: { query: GENERATION_EVENTS, variables: { id: work.generationId } }, firstAtOnce: true },
    { name: "batchProgress", request: { query: BATCH_PROGRESS, variables: { id: work.batchId } }, firstAtOnce: true },
  ];
}

/** Collects a subscription's results until it completes; fails loudly if it is still open after `timeoutMs`. */
function open(client: WsClient | SseClient, request: { query: string; variables: Record<string, unknown> }, timeoutMs = 20_000): Stream {
  const results: Result[] = [];
  const iterator = client.iterate<Record<string, unknown>>(request);
  const ended = (async () => {
    const timer = setTimeout(() => void iterator.return?.(), timeoutMs);
    try {
      for await (const result of iterator) results.push(result as Result);
      return { results, at: Date.now() };
    } catch (error) {
      return { results, at: Date.now(), error };
    } finally {
      clearTimeout(timer);
    }
  })();
  return { results, ended };
}

/** A graphql-ws client that connects at once and stays connected, recording how its socket closed. */
function wsClient(url: string, connectionParams: Record<string, unknown>) {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createWsClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: { closed: (event) => onClosed({ code: (event as Closed).code, reason: String((event as Closed).reason) }) },
  });
  return { client, closed };
}

function sseClient(url: string, token: string): SseClient {
  return createSseClient({ url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
}

/** A WebSocket upgrade with an optional Origin: 101 when the handshake succeeds, else the HTTP status. */
function upgradeStatus(url: string, origin?: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, "graphql-transport-ws", origin ? { origin } : {});
    socket.on("open", () => {
      socket.close();
      resolve(101);
    });
    socket.on("unexpected-response", (request, response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    socket.on("error", () => resolve(0));
  });
}

function lastError(results: Result[]) {
  const last = results.at(-1);
  return { data: last?.data ?? null, extensions: last?.errors?.[0]?.extensions, errorCount: last?.errors?.length ?? 0 };
}

describe("authentication that can be revoked", () => {
  let stack: TestStack;
  const servers: ListeningServer[] = [];
  const wsClients: WsClient[] = [];
  let jwks: Server;
  let jwksUrl: string;
  let rsaKey: CryptoKey;
  let ecKey: CryptoKey;

  /** Another app on the stack's database (its own listener) with other security settings or a faster re-check. */
  async function serve(options: { security?: Partial<SecurityConfig>; production?: boolean; recheckMs?: number } = {}) {
    const deps = { ...stack.runtime.deps, security: { ...stack.runtime.deps.security, ...options.security } };
    const production = options.production ?? false;
    const app = createApp(deps, { health: stack.runtime.health, production, recheckMs: options.recheckMs });
    const server = await listen(app, {
      host: "127.0.0.1", port: 0, production,
      authorizeConnection: (params) => authenticate(deps, typeof params.authorization === "string" ? params.authorization : undefined),
    });
    servers.push(server);
    const graphqlUrl = `${server.url}/graphql`;
    return { url: server.url, graphqlUrl, wsUrl: graphqlUrl.replace(/^http/, "ws") };
  }

  async function post(url: string, token: string | undefined, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Result };
  }

  /** An iepgen HS256 token for a tenant with chosen iat/exp (either may be left out). */
  async function craftToken(tenant: Tenant, claims: { iat?: number; exp?: number }) {
    const jwt = new SignJWT({ school_id: tenant.schoolId, role: "CASE_MANAGER" })
      .setProtectedHeader({ alg: "HS256" }).setSubject(tenant.userId).setIssuer("iepgen").setAudience("iepgen-api");
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(new TextEncoder().encode(TEST_JWT_SECRET));
  }

  /** An identity provider's token (RS256 or ES256, signed with the keys the local JWKS server publishes). */
  async function providerToken(sub: string, options: { alg?: "RS256" | "ES256"; issuer?: string; audience?: string } = {}) {
    const alg = options.alg ?? "RS256";
    return new SignJWT({ email: "someone@example.org" })
      .setProtectedHeader({ alg, kid: alg }).setSubject(sub)
      .setIssuer(options.issuer ?? IDP_ISSUER).setAudience(options.audience ?? IDP_AUDIENCE)
      .setIssuedAt().setExpirationTime("1h")
      .sign(alg === "RS256" ? rsaKey : ecKey);
  }

  /** A student with a queued generation and a queued batch, so every subscription field has something to follow. */
  async function openWork(tenant: Tenant): Promise<OpenWork> {
    const studentId = await createStudentViaApi(stack, {}, tenant.token);
    const generation = await generate(stack, { studentId }, { token: tenant.token });
    const batch = await stack.gql(GENERATE_IEPS, { input: { studentIds: [studentId], academicYear: "2027-2028" } }, tenant.token);
    const batchId = batch.data?.generateIeps?.batch?.id as string | undefined;
    if (!batchId) throw new Error(`generateIeps failed: ${JSON.stringify(batch)}`);
    return { studentId, generationId: generation.id, batchId };
  }

  /** Opens every subscription field over one graphql-ws socket and over SSE; waits until the replaying ones delivered. */
  async function openAll(urls: { graphqlUrl: string; wsUrl: string }, token: string, work: OpenWork, params?: Record<string, unknown>) {
    const ws = wsClient(urls.wsUrl, params ?? { authorization: `Bearer ${token}` });
    wsClients.push(ws.client);
    const sse = sseClient(urls.graphqlUrl, token);
    const streams = subscriptionsFor(work).flatMap((subscription) => [
      { label: `${subscription.name} over graphql-ws`, firstAtOnce: subscription.firstAtOnce, stream: open(ws.client, subscription.request) },
      { label: `${subscription.name} over SSE`, firstAtOnce: subscription.firstAtOnce, stream: open(sse, subscription.request) },
    ]);
    await waitFor(async () => streams.every((s) => !s.firstAtOnce || s.stream.results.length > 0), 10_000, "every replaying subscription to deliver");
    return { streams, closed: ws.closed, sse };
  }

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    const rsa = await generateKeyPair("RS256");
    const ec = await generateKeyPair("ES256");
    rsaKey = rsa.privateKey;
    ecKey = ec.privateKey;
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: "RS256", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ES256", alg: "ES256", use: "sig" },
    ];
    jwks = createServer((_request, response) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    for (const client of wsClients) await client.dispose();
    for (const server of servers) await server.close();
    await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
    await stack?.close();
  });

  describe("token lifetime", () => {
    it("refuses a token without exp, and one without iat (401 UNAUTHENTICATED)", async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const token of [await craftToken(stack.tenant, { iat: now }), await craftToken(stack.tenant, { exp: now + 600 })]) {
        const response = await post(stack.graphqlUrl, token);
        expect(response.status).toBe(401);
        expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "invalid-token" });
      }
    });

    it("refuses a token living longer than JWT_MAX_TTL (12 h by default), or issued in the future", async () => {
      const now = Math.floor(Date.now() / 1000);
      const tooLong = await craftToken(stack.tenant, { iat: now, exp: now + 12 * 3600 + 1 });
      const future = await craftToken(stack.tenant, { iat: now + 3600, exp: now + 7200 });
      const justRight = await craftToken(stack.tenant, { iat: now, exp: now + 12 * 3600 });
      for (const token of [tooLong, future]) {
        const response = await post(stack.graphqlUrl, token);
        expect(response.status).toBe(401);
        expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "invalid-token" });
      }
      expect((await post(stack.graphqlUrl, justRight)).body.data).toEqual({ me: { id: stack.tenant.userId } });

      const strict = await serve({ security: { jwt: { maxTtlSeconds: 3600 } } });
      expect((await post(strict.graphqlUrl, stack.tenant.token)).status).toBe(401);
      const hour = await craftToken(stack.tenant, { iat: now, exp: now + 3600 });
      expect((await post(strict.graphqlUrl, hour)).status).toBe(200);
    });
  });

  describe("identity provider tokens (JWKS)", () => {
    let idp: Awaited<ReturnType<typeof serve>>;
    beforeAll(async () => {
      idp = await serve({ security: { jwt: { maxTtlSeconds: 12 * 3600, jwksUrl, issuer: IDP_ISSUER, audience: IDP_AUDIENCE } } });
    });

    it("accepts RS256 and ES256 tokens whose subject is an iepgen user; school and role come from the user's row", async () => {
      for (const alg of ["RS256", "ES256"] as const) {
        const response = await post(idp.graphqlUrl, await providerToken(stack.tenant.userId, { alg }));
        expect(response.status).toBe(200);
        expect(response.body.data).toEqual({ me: { id: stack.tenant.userId } });
      }
      const students = await fetch(idp.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await providerToken(stack.tenant.userId)}` },
        body: JSON.stringify({ query: "{ me { role school { id } } }" }),
      });
      expect(((await students.json()) as Result).data).toEqual({ me: { role: "CASE_MANAGER", school: { id: stack.tenant.schoolId } } });
      expect((await post(idp.graphqlUrl, stack.tenant.token)).status).toBe(200);
    });

    it("refuses a wrong issuer, a wrong audience, an unknown subject and a key it does not publish", async () => {
      const stranger = await generateKeyPair("RS256");
      const unknownKey = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "RS256" }).setSubject(stack.tenant.userId)
        .setIssuer(IDP_ISSUER).setAudience(IDP_AUDIENCE).setIssuedAt().setExpirationTime("1h").sign(stranger.privateKey);
      const cases: [string, string][] = [
        [await providerToken(stack.tenant.userId, { issuer: "https://other-idp.example.test" }), "invalid-token"],
        [await providerToken(stack.tenant.userId, { audience: "another-app" }), "invalid-token"],
        [await providerToken(randomUUID()), "user-removed"],
        [unknownKey, "invalid-token"],
      ];
      for (const [token, reason] of cases) {
        const response = await post(idp.graphqlUrl, token);
        expect(response.status).toBe(401);
        expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason });
      }
      expect((await post(stack.graphqlUrl, await providerToken(stack.tenant.userId))).status).toBe(401);
    });

    it("will not start with a JWKS URL but no issuer or audience to pin tokens to", () => {
      const deps = { ...stack.runtime.deps, security: { ...stack.runtime.deps.security, jwt: { maxTtlSeconds: 3600, jwksUrl } } };
      expect(() => createApp(deps, { health: stack.runtime.health, production: true })).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
    });
  });

  describe("open subscriptions", () => {
    it("end with UNAUTHENTICATED at token expiry on every field, over graphql-ws (socket closed 4401) and SSE", async () => {
      const work = await openWork(stack.tenant);
      const exp = Math.floor(Date.now() / 1000) + 5;
      const token = await craftToken(stack.tenant, { iat: exp - 60, exp });
      const { streams, closed, sse } = await openAll(stack, token, work);

      const ended = await Promise.all(streams.map((s) => s.stream.ended));
      for (const [index, { results, at, error }] of ended.entries()) {
        const label = streams[index]!.label;
        expect(error, label).toBeUndefined();
        expect(lastError(results), label).toMatchObject({ data: null, errorCount: 1, extensions: { code: "UNAUTHENTICATED", reason: "token-expired" } });
        expect(at, label).toBeGreaterThanOrEqual(exp * 1000 - 50);
        if (streams[index]!.firstAtOnce) expect(results.length, label).toBeGreaterThan(1);
      }
      expect(await closed).toEqual({ code: 4401, reason: "token expired" });
      const refused = await post(stack.graphqlUrl, token);
      expect(refused.status).toBe(401);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ reason: "token-expired" });
      sse.dispose();
    });

    it("end within 10 s when their user is deleted, over graphql-ws (socket closed 4401) and SSE", async () => {
      const fast = await serve({ recheckMs: 300 });
      const doomed = await stack.createTenant();
      const work = await openWork(doomed);
      const { streams, closed, sse } = await openAll(fast, doomed.token, work);

      await stack.runtime.pool.query("delete from users where id = $1", [doomed.userId]);
      const deletedAt = Date.now();
      const ended = await Promise.all(streams.map((s) => s.stream.ended));
      for (const [index, { results, at, error }] of ended.entries()) {
        const label = streams[index]!.label;
        expect(error, label).toBeUndefined();
        expect(lastError(results), label).toMatchObject({ data: null, extensions: { code: "UNAUTHENTICATED", reason: "user-removed" } });
        expect(at - deletedAt, label).toBeLessThan(10_000);
      }
      expect(await closed).toEqual({ code: 4401, reason: "user removed" });
      sse.dispose();
    });

    it("end when their user moves to another school, with the default re-check (under 10 s)", async () => {
      const mover = await stack.createTenant();
      const studentId = await createStudentViaApi(stack, {}, mover.token);
      const ws = wsClient(stack.wsUrl, { authorization: `Bearer ${mover.token}` });
      wsClients.push(ws.client);
      const sse = sseClient(stack.graphqlUrl, mover.token);
      const streams = [open(ws.client, { query: EVIDENCE_STATUS, variables: { studentId } }), open(sse, { query: EVIDENCE_STATUS, variables: { studentId } })];
      // evidenceStatusChanged has no initial event, so nothing says when a subscription is live:
      // add evidence (again every second) until both have seen some.
      let lastAdded = 0;
      await waitFor(async () => {
        if (streams.every((s) => s.results.length > 0)) return true;
        if (Date.now() - lastAdded < 1000) return false;
        lastAdded = Date.now();
        const added = await stack.gql(ADD_EVIDENCE, { input: { studentId, kind: "PROGRESS_NOTE", title: "Probe", body: "Read 40 words per minute." } }, mover.token);
        expect(added.data?.addEvidence?.__typename).toBe("AddEvidenceSuccess");
        return false;
      }, 20_000, "both subscriptions to see new evidence");

      const elsewhere = await stack.createTenant();
      await stack.runtime.pool.query("update users set school_id = $2 where id = $1", [mover.userId, elsewhere.schoolId]);
      const movedAt = Date.now();
      for (const { results, at, error } of await Promise.all(streams.map((s) => s.ended))) {
        expect(error).toBeUndefined();
        expect(results[0]?.data).toMatchObject({ evidenceStatusChanged: { status: "PENDING" } });
        expect(lastError(results)).toMatchObject({ extensions: { code: "UNAUTHENTICATED", reason: "user-removed" } });
        expect(at - movedAt).toBeLessThan(10_000);
      }
      expect(await ws.closed).toEqual({ code: 4401, reason: "user removed" });
      sse.dispose();
    });
  });

  describe("graphql-ws connections", () => {
    it("accept the token under a capitalised Authorization in connectionParams", async () => {
      const { client } = wsClient(stack.wsUrl, { Authorization: `Bearer ${stack.tenant.token}` });
      wsClients.push(client);
      const stream = open(client, { query: "{ me { id } }", variables: {} });
      const { results, error } = await stream.ended;
      expect(error).toBeUndefined();
      expect(results).toEqual([{ data: { me: { id: stack.tenant.userId } } }]);
    });

    it("are refused (4403) with the reason in the close frame", async () => {
      const gone = await stack.createTenant();
      await stack.runtime.pool.query("delete from users where id = $1", [gone.userId]);
      const now = Math.floor(Date.now() / 1000);
      const cases: [Record<string, unknown>, string][] = [
        [{}, "missing token"],
        [{ authorization: "Bearer not-a-token" }, "invalid token"],
        [{ authorization: `Bearer ${await craftToken(stack.tenant, { iat: now - 60, exp: now - 30 })}` }, "token expired"],
        [{ authorization: `Bearer ${gone.token}` }, "user removed"],
      ];
      for (const [params, reason] of cases) {
        const { client, closed } = wsClient(stack.wsUrl, params);
        wsClients.push(client);
        expect(await closed).toEqual({ code: 4403, reason });
      }
    });
  });

  describe("CORS and WebSocket origins", () => {
    it("outside production without CORS_ORIGINS, any origin is allowed (local development)", async () => {
      const response = await post(stack.graphqlUrl, stack.tenant.token, { origin: FOREIGN_ORIGIN });
      expect(response.headers.get("access-control-allow-origin")).toBe(FOREIGN_ORIGIN);
      expect(await upgradeStatus(stack.wsUrl, FOREIGN_ORIGIN)).toBe(101);
    });

    it("with CORS_ORIGINS, echoes listed origins with credentials and gives others no CORS headers; the WebSocket refuses them with 403", async () => {
      const listed = await serve({ production: true, security: { corsOrigins: [ALLOWED_ORIGIN] } });
      const allowed = await post(listed.graphqlUrl, stack.tenant.token, { origin: ALLOWED_ORIGIN });
      expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
      expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
      expect(allowed.headers.get("vary")).toMatch(/Origin/);
      const preflight = await fetch(listed.graphqlUrl, {
        method: "OPTIONS",
        headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
      expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);

      const denied = await post(listed.graphqlUrl, stack.tenant.token, { origin: FOREIGN_ORIGIN });
      expect(denied.headers.get("access-control-allow-origin")).toBeNull();
      expect(denied.headers.get("access-control-allow-credentials")).toBeNull();
      const deniedPreflight = await fetch(listed.graphqlUrl, {
        method: "OPTIONS", headers: { origin: FOREIGN_ORIGIN, "access-control-request-method": "POST" },
      });
      expect(deniedPreflight.headers.get("access-control-allow-origin")).toBeNull();

      expect(await upgradeStatus(listed.wsUrl, ALLOWED_ORIGIN)).toBe(101);
      expect(await upgradeStatus(listed.wsUrl, FOREIGN_ORIGIN)).toBe(403);
      expect(await upgradeStatus(listed.wsUrl, "null")).toBe(403);
      expect(await upgradeStatus(listed.wsUrl)).toBe(101);
    });

    it("in production without CORS_ORIGINS, only the same origin is allowed", async () => {
      const production = await serve({ production: true });
      const sameOrigin = production.url.replace("localhost", "127.0.0.1");
      const foreign = await post(production.graphqlUrl, stack.tenant.token, { origin: FOREIGN_ORIGIN });
      expect(foreign.status).toBe(200);
      expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
      const own = await post(production.graphqlUrl, stack.tenant.token, { origin: sameOrigin });
      expect(own.headers.get("access-control-allow-origin")).toBe(sameOrigin);
      expect(await upgradeStatus(production.wsUrl, FOREIGN_ORIGIN)).toBe(403);
      expect(await upgradeStatus(production.wsUrl, sameOrigin)).toBe(101);
    });

    it("will not start with a CORS_ORIGINS entry that is not an origin", () => {
      const deps = { ...stack.runtime.deps, security: { ...stack.runtime.deps.security, corsOrigins: ["app.example.org/path"] } };
      expect(() => createApp(deps, { health: stack.runtime.health, production: true })).toThrow(/CORS_ORIGINS/);
    });
  });
});
