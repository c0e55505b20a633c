import { promisify } from "node:util";
import zlib from "node:zlib";
import { NoSchemaIntrospectionCustomRule } from "graphql";
import type { GraphiQLOptions, Plugin } from "graphql-yoga";
import { negotiateEncoding } from "./compression.ts";

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Serves the GraphiQL page (GET on the GraphQL path asking for HTML, as yoga decides) from memory:
 * rendered once and compressed once per encoding (off the event loop, on first load), instead of
 * recompressing ~9 MB on every load. Brotli quality 5: 9 MB → 1.9 MB in about 1.4 s here; quality
 * 11 would save 0.2 MB more for 48 s of CPU.
 */
export function graphiqlPlugin(graphqlPath: string, render: () => string): Plugin {
  const bodies = new Map<string, Promise<Uint8Array>>();
  const body = (encoding: "br" | "gzip" | "identity"): Promise<Uint8Array> => {
    let cached = bodies.get(encoding);
    if (!cached) {
      const page = Buffer.from(render());
      cached = encoding === "br"
        ? brotli(page, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: page.length } })
        : encoding === "gzip" ? gzip(page, { level: 6 }) : Promise.resolve(page);
      bodies.set(encoding, cached);
    }
    return cached;
  };
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== "GET" || url.pathname !== graphqlPath || !request.headers.get("accept")?.includes("text/html")) return;
      const encoding = negotiateEncoding(request.headers.get("accept-encoding")) ?? "identity";
      const headers = new fetchAPI.Headers({ "content-type": "text/html; charset=utf-8", vary: "Accept-Encoding" });
      if (encoding !== "identity") headers.set("content-encoding", encoding);
      endResponse(new fetchAPI.Response((await body(encoding)) as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    },
  };
}

/**
 * The document GraphiQL opens with: a commented walk-through (sign in, Me, Students, Generate,
 * Watch, Iep) in one tab, so a token pasted once serves every operation. test/schema.test.ts keeps
 * it valid against the schema.
 */
export const GRAPHIQL_DEFAULT_QUERY = `# iepgen: draft an IEP and watch it being written.
# Docs and autocomplete work now, without a token (outside production; see INTROSPECTION).
# 1. Sign in: in a terminal, npm run seed -- --demo   (prints a token and student ids)
# 2. Headers pane, below: replace its comment with {"Authorization": "Bearer <token>"}
# 3. Run Me (the ▶ button lists every operation of this document), then Students.
# 4. Put a student id in Variables: {"studentId": "<id>"} and run Generate.
# 5. Add its generation id: {"studentId": "…", "generationId": "<id>"} and run Watch:
#    stages stream in, then the draft as textDelta, until SUCCEEDED (the result pane shows
#    the latest event; run Iep afterwards for the whole story and the finished draft).

query Me {
  me { id name role school { name } }
}

query Students {
  students(first: 10) {
    totalCount
    edges { node { id fullName age grade disabilityCategories evidence { title status } } }
  }
}

mutation Generate($studentId: ID!) {
  generateIep(input: { studentId: $studentId }) {
    __typename
    ... on GenerateIepSuccess { generation { id status queuePosition estimatedCompletionAt } }
    ... on Error { message }
  }
}

subscription Watch($generationId: ID!) {
  generationEvents(id: $generationId) {
    seq status stage progress message textDelta
    generation { id status stage progress }
  }
}

query Iep($generationId: ID!) {
  generation(id: $generationId) {
    id status error finishedAt
    events { seq stage message }
    iep {
      id version status academicYear model
      sections { kind content citations { chunkId chunk { text evidence { title } } } }
    }
  }
}
`;

/** The Headers pane GraphiQL opens with: a comment (sent as no headers), never a placeholder token that 401s. */
export const GRAPHIQL_HEADERS = `// No token is needed for Docs. To run operations, replace this comment with:
// {"Authorization": "Bearer <token from npm run seed -- --demo>"}
`;

/** GraphiQL's settings: the walk-through, a commented Headers pane, subscriptions over SSE (carrying the headers). */
export function graphiqlOptions(): GraphiQLOptions {
  return {
    title: "iepgen",
    defaultQuery: GRAPHIQL_DEFAULT_QUERY,
    headers: GRAPHIQL_HEADERS,
    defaultHeaders: GRAPHIQL_HEADERS,
    subscriptionsProtocol: "SSE",
    defaultEditorToolsVisibility: "headers",
  };
}

/** Who may read the schema (INTROSPECTION): without a token, with one, or nobody. */
export type IntrospectionAccess = "public" | "authenticated" | "off";

/** The configured access, or the default: public outside production (GraphiQL's Docs before sign-in), authenticated in it. */
export function introspectionAccess(configured: IntrospectionAccess | undefined, production: boolean): IntrospectionAccess {
  return configured ?? (production ? "authenticated" : "public");
}

/** With access `off`, validation refuses __schema and __type for everyone (HTTP, SSE and graphql-ws alike). */
export function introspectionPlugin(access: IntrospectionAccess): Plugin {
  return {
    onValidate({ addValidationRule }) {
      if (access === "off") addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
