import { request as httpRequest } from "node:http";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { negotiateEncoding } from "../src/http/compression.ts";
import { GENERATION_EVENTS, generate, studentWithEvidence } from "./helpers/generation.ts";
import { startTestStack, type TestStack } from "./helpers/stack.ts";

interface RawResponse { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw HTTP exchange (fetch would decompress): the bytes as they came over the wire. */
function raw(url: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: body ? "POST" : "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const HTML = { accept: "text/html" };

describe("response compression", () => {
  let stack: TestStack;
  beforeAll(async () => { stack = await startTestStack(); });
  afterAll(async () => { await stack?.close(); });

  it("negotiates br over gzip, honours q=0 and *, and ignores unknown encodings", () => {
    expect(negotiateEncoding("gzip, deflate, br")).toBe("br");
    expect(negotiateEncoding("gzip;q=1, br;q=0.5")).toBe("gzip");
    expect(negotiateEncoding("br;q=0, gzip")).toBe("gzip");
    expect(negotiateEncoding("*")).toBe("br");
    expect(negotiateEncoding("identity")).toBeUndefined();
    expect(negotiateEncoding("deflate, zstd")).toBeUndefined();
    expect(negotiateEncoding(null)).toBeUndefined();
  });

  it("serves GraphiQL with br or gzip when accepted, and plain otherwise", async () => {
    const plain = await raw(stack.graphqlUrl, HTML);
    expect(plain.status).toBe(200);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toContain("<title>iepgen</title>");
    const br = await raw(stack.graphqlUrl, { ...HTML, "accept-encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(zlib.brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gzip = await raw(stack.graphqlUrl, { ...HTML, "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(zlib.gunzipSync(gzip.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(gzip.body.length).toBeLessThan(plain.body.length / 3);
    // Compressed once: a second load gets the very same bytes, with the request's own id.
    const again = await raw(stack.graphqlUrl, { ...HTML, "accept-encoding": "br", "x-request-id": "graphiql-again" });
    expect(again.body.equals(br.body)).toBe(true);
    expect(again.headers["x-request-id"]).toBe("graphiql-again");
  });

  it("compresses large GraphQL results, not small ones, and fetch reads them as usual", async () => {
    const query = JSON.stringify({ query: "{ __schema { types { name description fields { name description } } } }" });
    const headers = { "content-type": "application/json", authorization: `Bearer ${stack.tenant.token}` };
    const big = await raw(stack.graphqlUrl, { ...headers, "accept-encoding": "gzip" }, query);
    expect(big.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(zlib.gunzipSync(big.body).toString()).data.__schema.types.length).toBeGreaterThan(10);
    const small = await raw(stack.graphqlUrl, { ...headers, "accept-encoding": "gzip" }, JSON.stringify({ query: "{ __typename }" }));
    expect(small.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(small.body.toString())).toEqual({ data: { __typename: "Query" } });
    expect((await stack.gql("{ __typename }")).data).toEqual({ __typename: "Query" });
  });

  it("never compresses an SSE subscription: events arrive one by one while the stream is open", async () => {
    const studentId = await studentWithEvidence(stack);
    const generation = await generate(stack, { studentId });
    const response = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", "accept-encoding": "gzip, br", authorization: `Bearer ${stack.tenant.token}` },
      body: JSON.stringify({ query: GENERATION_EVENTS, variables: { id: generation.id } }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(response.headers.get("content-encoding") ?? "none").toBe("none");
    const reader = response.body!.getReader();
    let text = "";
    while (!/"generationEvents"/.test(text)) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += new TextDecoder().decode(value);
    }
    expect(text).toMatch(/^event: next$/m);
    await reader.cancel();
  });
});
