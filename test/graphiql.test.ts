import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { buildClientSchema, getIntrospectionQuery, parse, validate, type IntrospectionQuery } from "graphql";
import { createClient as createSseClient } from "graphql-sse";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntrospectionAccess } from "../src/http/graphiql.ts";
import { createApp } from "../src/yoga.ts";
import { studentWithEvidence } from "./helpers/generation.ts";
import { startTestStack, type TestStack } from "./helpers/stack.ts";

/** What GraphiQL sends first, before anyone pastes a token: the introspection query, no Authorization. */
const INTROSPECTION = getIntrospectionQuery({ schemaDescription: true, inputValueDeprecation: true });

interface Answer { status: number; body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } }

async function post(url: string, query: string, options: { token?: string; authorization?: string; operationName?: string; variables?: object } = {}): Promise<Answer> {
  const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({ query, operationName: options.operationName, variables: options.variables ?? {} }),
  });
  return { status: response.status, body: await response.json() as Answer["body"] };
}

/** The settings the GraphiQL page boots with (the JSON yoga inlines into its render call). */
function bootOptions(html: string): { headers: string; defaultHeaders: string; defaultQuery: string; subscriptionsProtocol: string } {
  const match = /querySelector\('#root'\),\s*(\{[\s\S]*?\}),\s*\);\s*<\/script>/.exec(html);
  if (!match) throw new Error("GraphiQL's boot options were not found in the page");
  return JSON.parse(match[1]!);
}

/** Debian's Chromium, as test/web/page.test.ts launches it (never a downloaded browser). */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** A comment-only Headers pane: GraphiQL parses it as JSONC and sends no header at all. */
const isCommentOnly = (pane: string) => pane.split("\n").every((line) => line.trim() === "" || line.trim().startsWith("//"));

describe("GraphiQL before and after a token is pasted", () => {
  let stack: TestStack;
  const servers: Server[] = [];

  beforeAll(async () => { stack = await startTestStack(); }, 60_000);
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await stack?.close();
  });

  /** The stack's deps behind another app: another INTROSPECTION setting, or production. */
  async function appWith(introspection: IntrospectionAccess | undefined, production: boolean): Promise<string> {
    const deps = { ...stack.runtime.deps, security: { ...stack.runtime.deps.security, introspection } };
    const server = createServer(createApp(deps, { health: stack.runtime.health, production }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  }

  it("boots with a commented Headers pane (no placeholder token) and a walk-through valid against the schema, compressed", async () => {
    const response = await fetch(stack.graphqlUrl, { headers: { accept: "text/html", "accept-encoding": "br" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-encoding")).toBe("br");
    const options = bootOptions(await response.text());
    expect(isCommentOnly(options.headers)).toBe(true);
    expect(isCommentOnly(options.defaultHeaders)).toBe(true);
    expect(options.headers).toMatch(/npm run seed -- --demo/);
    expect(options.subscriptionsProtocol).toBe("SSE");

    const introspected = await post(stack.graphqlUrl, INTROSPECTION);
    const schema = buildClientSchema(introspected.body.data as IntrospectionQuery);
    const document = parse(options.defaultQuery);
    expect(validate(schema, document)).toEqual([]);
    expect(document.definitions.map((d) => ("name" in d ? d.name?.value : undefined))).toEqual(["Me", "Students", "Generate", "Watch", "Iep"]);
  });

  it("loads in a real browser with no error before a token is pasted: the schema request succeeds without a token, Docs list the root types", async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const answers: { authorization: string | undefined; status: number; body: string }[] = [];
      page.on("response", async (response) => {
        if (response.request().method() !== "POST" || !response.url().endsWith("/graphql")) return;
        answers.push({ authorization: response.request().headers().authorization, status: response.status(), body: await response.text().catch(() => "") });
      });
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(error.message));
      await page.goto(stack.graphqlUrl, { waitUntil: "load" });
      await page.getByRole("button", { name: /documentation explorer/i }).click({ timeout: 30_000 });
      await page.getByText("Root Types").waitFor({ timeout: 30_000 });
      expect(await page.getByText(/Error fetching schema/i).count()).toBe(0);
      expect(answers.length).toBeGreaterThan(0);
      for (const answer of answers) {
        expect(answer.authorization).toBeUndefined();
        expect(answer.status, answer.body.slice(0, 200)).toBe(200);
        expect(answer.body).toContain("__schema");
      }
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it("answers GraphiQL's introspection without a token by default outside production; a sent token is still checked", async () => {
    const open = await post(stack.graphqlUrl, INTROSPECTION);
    expect(open.status).toBe(200);
    expect(open.body.errors).toBeUndefined();
    expect(open.body.data.__schema.queryType.name).toBe("Query");
    // The placeholder the old Headers pane held: a token that is sent is verified, as before.
    const placeholder = await post(stack.graphqlUrl, INTROSPECTION, { authorization: "Bearer <token from npm run seed -- --demo>" });
    expect(placeholder.status).toBe(401);
    expect(placeholder.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(placeholder.body.data).toBeUndefined();
  });

  it("still answers every other unauthenticated operation 401, whatever introspection it carries", async () => {
    const documents: [string, string | undefined][] = [
      ["{ me { id } }", undefined],
      ["{ __schema { queryType { name } } me { id } }", undefined],
      ["query Schema { __schema { queryType { name } } } query Me { me { id } }", "Schema"],
      ["query Schema { __typename } mutation Cancel { cancelGeneration(id: \"x\") { __typename } }", "Schema"],
      ["{ __type(name: \"Query\") { name } students(first: 1) { totalCount } }", undefined],
    ];
    for (const [query, operationName] of documents) {
      const answer = await post(stack.graphqlUrl, query, { operationName });
      expect(answer.status, query).toBe(401);
      expect(answer.body.errors?.[0]?.extensions?.code, query).toBe("UNAUTHENTICATED");
      expect(answer.body.errors?.[0]?.extensions?.reason, query).toBe("missing-token");
      expect(answer.body.data, query).toBeUndefined();
    }
    const sse = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription($id: ID!) { generationEvents(id: $id) { seq } }", variables: { id: "00000000-0000-0000-0000-000000000000" } }),
    });
    const sseBody = await sse.text();
    expect(sse.status === 401 || /UNAUTHENTICATED/.test(sseBody), sseBody).toBe(true);
    expect(sseBody).not.toMatch(/"seq"/);
  });

  it("INTROSPECTION=authenticated (production's default) asks for a token; =off refuses everyone", async () => {
    const production = await appWith(undefined, true);
    const authenticated = await appWith("authenticated", false);
    const off = await appWith("off", false);
    const publicInProduction = await appWith("public", true);

    for (const url of [production, authenticated]) {
      expect((await post(url, INTROSPECTION)).status).toBe(401);
      const signedIn = await post(url, INTROSPECTION, { token: stack.tenant.token });
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.data.__schema.queryType.name).toBe("Query");
    }
    for (const token of [undefined, stack.tenant.token]) {
      const refused = await post(off, INTROSPECTION, { token });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.message).toMatch(/introspection has been disabled/i);
      expect(refused.body.data).toBeUndefined();
    }
    const me = await post(off, "{ me { id } }", { token: stack.tenant.token });
    expect(me.body.data.me.id).toBe(stack.tenant.userId);

    const open = await post(publicInProduction, INTROSPECTION);
    expect(open.status).toBe(200);
    expect((await post(publicInProduction, "{ me { id } }")).status).toBe(401);
  });

  it("runs the walk-through as GraphiQL does once a token is pasted: Me, Students, Generate, Watch over SSE, Iep", async () => {
    const page = bootOptions(await (await fetch(stack.graphqlUrl, { headers: { accept: "text/html" } })).text());
    const walkthrough = page.defaultQuery;
    const token = stack.tenant.token;
    const studentId = await studentWithEvidence(stack);

    const me = await post(stack.graphqlUrl, walkthrough, { token, operationName: "Me" });
    expect(me.body.data.me.id).toBe(stack.tenant.userId);
    const students = await post(stack.graphqlUrl, walkthrough, { token, operationName: "Students" });
    expect(students.body.data.students.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(studentId);
    const generated = await post(stack.graphqlUrl, walkthrough, { token, operationName: "Generate", variables: { studentId } });
    expect(generated.body.data.generateIep.__typename).toBe("GenerateIepSuccess");
    const generationId = generated.body.data.generateIep.generation.id as string;

    const sse = createSseClient({ url: stack.graphqlUrl, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const events: { seq: number; status: string; stage: string; generation: { id: string; status: string } }[] = [];
    try {
      const stream = sse.iterate<{ generationEvents: (typeof events)[number] }>({
        query: walkthrough, operationName: "Watch", variables: { studentId, generationId },
      });
      for await (const result of stream) {
        expect(result.errors).toBeUndefined();
        events.push(result.data!.generationEvents);
      }
    } finally {
      sse.dispose();
    }
    expect(events.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE", generation: { id: generationId, status: "SUCCEEDED" } });
    expect(events.map((e) => e.stage)).toEqual(expect.arrayContaining(["RETRIEVING", "DRAFTING", "DONE"]));

    const iep = await post(stack.graphqlUrl, walkthrough, { token, operationName: "Iep", variables: { studentId, generationId } });
    expect(iep.body.errors).toBeUndefined();
    expect(iep.body.data.generation.status).toBe("SUCCEEDED");
    expect(iep.body.data.generation.events.at(-1).stage).toBe("DONE");
    expect(iep.body.data.generation.iep.sections.length).toBeGreaterThan(0);
  }, 60_000);
});
