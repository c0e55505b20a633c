import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getIntrospectionQuery, type GraphQLError } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { QUERY_TOO_COMPLEX } from "../src/http/limits.ts";
import { DEFAULT_SECURITY } from "../src/security.ts";
import { createApp, GRAPHIQL_DEFAULT_QUERY } from "../src/yoga.ts";
import { createStudentViaApi, startTestStack, type GraphQLResponse, type Tenant, type TestStack } from "./helpers/stack.ts";

/** student → evidence → student → … nested `levels` fields deep (the killer query). */
function depthBomb(levels: number): string {
  let selection = "id";
  for (let level = levels - 1; level >= 1; level -= 1) selection = `${level % 2 === 1 ? "evidence" : "student"} { ${selection} }`;
  return `query($id: ID!) { student(id: $id) { ${selection} } }`;
}

const BOMBS: { name: string; limit: string; query: string; variables?: Record<string, unknown> }[] = [
  { name: "a depth bomb (25 levels of student → evidence)", limit: "depth", query: depthBomb(25) },
  { name: "an alias bomb (16 aliases)", limit: "aliases",
    query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: students(first: 1) { totalCount }`).join(" ")} }` },
  { name: "the issue's alias bomb (1,000 × students(first: 100) { evidence { body } })", limit: "tokens",
    query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: students(first: 100) { edges { node { evidence { body } } } }`).join(" ")} }` },
  { name: "a token bomb (5,000 fields)", limit: "tokens", query: `{ me { ${"id ".repeat(5000)}} }` },
  { name: "a directive bomb (50 directives)", limit: "directives",
    query: `{ me { ${"__typename @include(if: true) ".repeat(50)}} }` },
  { name: "a cost bomb (100 students × evidence × chunks)", limit: "cost",
    query: "{ students(first: 100) { edges { node { evidence { chunks { text } } } } } }" },
  { name: "a cost bomb hiding its page size in a variable", limit: "cost",
    query: "query($n: Int) { students(first: $n) { edges { node { evidence { chunks { text } } } } } }", variables: { n: 100 } },
];

const NORMAL_QUERY = "{ students(first: 10) { totalCount edges { node { id fullName evidence { title } } } } }";

async function post(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, "status">) };
}

let sent = 0;

/** The same document as a new string each time (a trailing comment), so yoga's parse and validation caches never answer. */
function unique(query: string): string {
  sent += 1;
  return `${query}\n# request ${sent}`;
}

async function timed<T>(work: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work;
  return { result, ms: performance.now() - started };
}

/** A 400 whose errors are all typed over-limit errors, one of them for `limit`; nothing executed. */
function expectRejected(response: GraphQLResponse, limit: string): void {
  expect(response.status).toBe(400);
  expect(response.data ?? null).toBeNull();
  expect(response.errors?.length).toBeGreaterThan(0);
  for (const error of response.errors ?? []) {
    expect(error.extensions?.code).toBe(QUERY_TOO_COMPLEX);
    expect(error.message).not.toMatch(/Syntax Error/);
  }
  expect(response.errors?.map((error) => error.extensions?.limit)).toContain(limit);
}

describe("bounded work per request", () => {
  let stack: TestStack;
  let other: Tenant;
  let studentId: string;
  let production: Server;
  let productionUrl: string;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    other = await stack.createTenant();
    studentId = await createStudentViaApi(stack);
    await createStudentViaApi(stack, {}, other.token);
    const app = createApp(stack.runtime.deps, { health: stack.runtime.health, production: true });
    production = createServer(app);
    await new Promise<void>((resolve) => production.listen(0, "127.0.0.1", resolve));
    productionUrl = `http://127.0.0.1:${(production.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    production?.closeAllConnections();
    await new Promise((resolve) => production?.close(resolve));
    await stack?.close();
  });

  it.each(BOMBS)("answers $name with a typed error before executing, while serving another client", async ({ limit, query, variables }) => {
    const vars = { id: studentId, ...variables };
    const send = () => timed(post(stack.graphqlUrl, unique(query), vars, stack.tenant.token));
    await send(); // warm-up: the first request of a shape pays for JIT compilation
    const [bombs, normal] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, send)),
      timed(post(stack.graphqlUrl, NORMAL_QUERY, {}, other.token)),
    ]);
    const alone = await send();
    const slowest = Math.max(...bombs.map((bomb) => bomb.ms));
    console.log(`${limit}: rejected in ${alone.ms.toFixed(1)} ms alone; 10 concurrent, slowest ${slowest.toFixed(1)} ms; ` +
      `other client's query meanwhile ${normal.ms.toFixed(1)} ms`);
    for (const bomb of [...bombs, alone]) expectRejected(bomb.result, limit);
    expect(alone.ms).toBeLessThan(1000);
    expect(slowest).toBeLessThan(1000);
    expect(normal.result.errors).toBeUndefined();
    expect(normal.result.data.students.totalCount).toBe(1);
  });

  it("rejects before authenticating, so an anonymous bomb costs no database work", async () => {
    const response = await post(stack.graphqlUrl, depthBomb(25), { id: studentId });
    expectRejected(response, "depth");
  });

  it.each([
    ["depth", () => depthBomb(25)],
    ["tokens", () => `subscription { batchProgress(id: "x") { ${"total ".repeat(5000)}} }`],
  ])("rejects over graphql-ws as well (%s, a typed error on an open socket)", async (limit, bomb) => {
    const client = createWsClient({ url: stack.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${stack.tenant.token}` } });
    try {
      const errors = await new Promise<readonly { message: string; extensions?: Record<string, unknown> }[]>((resolve, reject) => {
        client.subscribe({ query: bomb(), variables: { id: studentId } }, {
          next: () => reject(new Error("the bomb executed")),
          error: (error: unknown) => (Array.isArray(error) ? resolve(error) : reject(error)),
          complete: () => reject(new Error("completed without an error")),
        });
      });
      expect(errors.map((error) => error.extensions?.code)).toContain(QUERY_TOO_COMPLEX);
      expect(errors.map((error) => error.extensions?.limit)).toContain(limit);
    } finally {
      await client.dispose();
    }
  });

  it("lets the README's operations, GraphiQL's default document and the full introspection query through the default limits", async () => {
    expect(stack.runtime.deps.security.requestLimits).toEqual(DEFAULT_SECURITY.requestLimits);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const documents = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(documents.length).toBeGreaterThanOrEqual(7);
    documents.push(GRAPHIQL_DEFAULT_QUERY, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, schemaDescription: true,
      specifiedByUrl: true, directiveIsRepeatable: true }));
    const { parse, validate, schema } = stack.runtime.app.getEnveloped({});
    for (const document of documents) {
      const errors: readonly GraphQLError[] = validate(schema, parse(document));
      expect(errors.map((error) => error.message), document).toEqual([]);
    }
  });

  it("serves GraphiQL's introspection query without a token outside production", async () => {
    const response = await post(stack.graphqlUrl, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), {});
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    expect(response.data.__schema.types.length).toBeGreaterThan(20);
  });

  it("enforces the same limits in production, and hides field suggestions there", async () => {
    for (const { limit, query, variables } of BOMBS) {
      expectRejected(await post(productionUrl, query, { id: studentId, ...variables }, stack.tenant.token), limit);
    }
    const typos: [string, Record<string, unknown>, RegExp][] = [
      ["{ me { nam } }", {}, /Cannot query field "nam" on type "User"/],
      ["{ generations(filter: { status: [QUEUD] }) { edges { node { id } } } }", {}, /Value "QUEUD" does not exist in "GenerationStatus" enum/],
      ["query($s: [GenerationStatus!]) { generations(filter: { status: $s }) { edges { node { id } } } }", { s: ["QUEUD"] },
        /Value "QUEUD" does not exist in "GenerationStatus" enum/],
    ];
    for (const [query, variables, error] of typos) {
      const development = await post(stack.graphqlUrl, query, variables, stack.tenant.token);
      expect(development.errors?.[0]?.message).toMatch(error);
      expect(development.errors?.[0]?.message).toMatch(/Did you mean/);
      const hidden = await post(productionUrl, query, variables, stack.tenant.token);
      expect(hidden.errors?.[0]?.message).toMatch(error);
      expect(hidden.errors?.[0]?.message).not.toMatch(/Did you mean/);
    }
    const normal = await post(productionUrl, NORMAL_QUERY, {}, other.token);
    expect(normal.errors).toBeUndefined();
    expect(normal.data.students.totalCount).toBe(1);
  });
});
