import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { simulatedEmbedding, startGeminiSimulator, type GeminiSimulator } from "../src/gemini/simulator/server.ts";

const CHUNK_A = "0b6c3a52-8f0e-4d3a-9c1e-2f4b5a6c7d8e";
const CHUNK_B = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
const GENERATION_MODEL = "gemini-2.5-flash";
const EMBEDDING_MODEL = "gemini-embedding-001";

const GoalsSchema = z.object({
  studentSummary: z.string().min(1),
  goals: z
    .array(
      z.object({
        area: z.enum(["reading", "math", "behavior"]),
        goal: z.string().min(10).max(300),
        targetDate: z.iso.date(),
        baselinePercent: z.number().int().min(0).max(100),
        chunkIds: z.array(z.uuid()).min(1),
      }),
    )
    .min(2)
    .max(4),
});

const EVIDENCE_PROMPT = [
  "Draft IEP goals from the evidence below.",
  `[chunk: ${CHUNK_A}] Maya reads 62 words correct per minute in grade 3 passages and skips unfamiliar words.`,
  `[chunk: ${CHUNK_B}] Maya solves single-digit addition with 80% accuracy but struggles with regrouping.`,
].join("\n");

let sim: GeminiSimulator;
let ai: GoogleGenAI;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startGeminiSimulator({ log: (line) => logLines.push(line) });
  ai = new GoogleGenAI({ apiKey: "simulator", httpOptions: { baseUrl: sim.url } });
});

afterEach(() => {
  sim.clearFaults();
  sim.setLatencyMs(0);
  sim.setGenerateHandler(undefined);
});

afterAll(async () => {
  await sim.close();
});

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);
}

function norm(vector: number[]): number {
  return Math.sqrt(cosine(vector, vector));
}

async function embed(texts: string[], dimensions = 768): Promise<number[][]> {
  const response = await ai.models.embedContent({
    model: EMBEDDING_MODEL,
    contents: texts,
    config: { outputDimensionality: dimensions, taskType: "RETRIEVAL_DOCUMENT" },
  });
  return (response.embeddings ?? []).map((embedding) => embedding.values ?? []);
}

async function caughtError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

function generateGoals(config: Record<string, unknown> = {}) {
  return ai.models.generateContent({
    model: GENERATION_MODEL,
    contents: EVIDENCE_PROMPT,
    config: { responseMimeType: "application/json", responseJsonSchema: z.toJSONSchema(GoalsSchema), ...config },
  });
}

describe("embeddings", () => {
  it("returns one 768-dimension unit vector per input, deterministically", async () => {
    const texts = ["Reading fluency is below grade level.", "Counts to 100 by tens."];
    const first = await embed(texts);
    const second = await embed(texts);
    expect(first).toHaveLength(2);
    for (const vector of first) {
      expect(vector).toHaveLength(768);
      expect(norm(vector)).toBeCloseTo(1, 6);
    }
    expect(second).toEqual(first);
    expect(first[0]).toEqual(simulatedEmbedding(texts[0]!, 768));
    expect(first[0]).not.toEqual(first[1]);
  });

  it("embeds a single string and defaults to 3072 dimensions like the real model", async () => {
    const response = await ai.models.embedContent({ model: EMBEDDING_MODEL, contents: "single text" });
    expect(response.embeddings).toHaveLength(1);
    expect(response.embeddings?.[0]?.values).toHaveLength(3072);
  });

  it("serves the single embedContent endpoint too", async () => {
    const response = await fetch(`${sim.url}/v1beta/models/${EMBEDDING_MODEL}:embedContent`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": "anything" },
      body: JSON.stringify({ content: { parts: [{ text: "phonics" }] }, outputDimensionality: 64 }),
    });
    const json = (await response.json()) as { embedding: { values: number[] } };
    expect(response.status).toBe(200);
    expect(json.embedding.values).toEqual(simulatedEmbedding("phonics", 64));
  });

  it("places texts that share words closer together", async () => {
    const [query, readingNote, mathNote] = await embed([
      "reading fluency",
      "Student reads slowly; reading fluency is 45 words per minute and fluency practice helps.",
      "Student adds two-digit numbers with regrouping and solves math word problems.",
    ]);
    expect(cosine(query!, readingNote!)).toBeGreaterThan(cosine(query!, mathNote!) + 0.2);
    expect(cosine(simulatedEmbedding("reads", 256), simulatedEmbedding("reading", 256))).toBeGreaterThan(0.5);
  });

  it("gives the empty string a finite unit vector", async () => {
    const [empty] = await embed([""]);
    expect(empty).toHaveLength(768);
    expect(empty!.every(Number.isFinite)).toBe(true);
    expect(norm(empty!)).toBeCloseTo(1, 6);
  });
});

describe("generateContent", () => {
  it("answers with JSON that validates against the zod schema and cites the prompt's chunk ids", async () => {
    const response = await generateGoals();
    const parsed = GoalsSchema.parse(JSON.parse(response.text ?? ""));
    const cited = parsed.goals.flatMap((goal) => goal.chunkIds);
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.every((id) => id === CHUNK_A || id === CHUNK_B)).toBe(true);
    expect(new Set(cited)).toEqual(new Set([CHUNK_A, CHUNK_B]));
    expect(parsed.studentSummary).toMatch(/^Maya (reads|solves)/);
    expect(response.modelVersion).toBe("iepgen-gemini-simulator");
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
  });

  it("is deterministic for the same request", async () => {
    const [first, second] = await Promise.all([generateGoals(), generateGoals()]);
    expect(first.text).toBe(second.text);
  });

  it("handles nullable, recursive ($defs), tuple, record, literal and OpenAPI-style schemas", async () => {
    const Section = z.object({
      title: z.string(),
      get subsections() {
        return z.array(Section).max(3);
      },
    });
    const Complex = z.object({
      section: Section,
      score: z.number().min(0.5).max(0.75).nullable(),
      at: z.iso.datetime(),
      contact: z.email(),
      pair: z.tuple([z.string(), z.number().int()]),
      counts: z.record(z.string(), z.number()),
      kind: z.literal("draft"),
      flag: z.boolean(),
      sourceIds: z.array(z.string()).max(1),
      note: z.string().optional(),
    });
    const response = await ai.models.generateContent({
      model: GENERATION_MODEL,
      contents: EVIDENCE_PROMPT,
      config: { responseMimeType: "application/json", responseJsonSchema: z.toJSONSchema(Complex) },
    });
    const parsed = Complex.parse(JSON.parse(response.text ?? ""));
    expect(parsed.sourceIds).toEqual([CHUNK_A]);

    const openApiStyle = await ai.models.generateContent({
      model: GENERATION_MODEL,
      contents: "Summarise.",
      config: {
        responseMimeType: "application/json",
        responseSchema: { type: "OBJECT" as never, properties: { n: { type: "INTEGER" as never, minimum: 3, maximum: 3 } } },
      },
    });
    expect(JSON.parse(openApiStyle.text ?? "")).toEqual({ n: 3 });
  });

  it("answers plain text derived from the prompt when no schema is requested", async () => {
    const response = await ai.models.generateContent({ model: GENERATION_MODEL, contents: "Describe Maya's reading skills." });
    expect(response.text).toContain("Simulated response");
    expect(response.text).toContain("Describe Maya's reading skills.");
  });

  it("uses a custom handler, given the prompt text and schema", async () => {
    const seen: Array<{ promptText: string; schema: unknown; model: string }> = [];
    sim.setGenerateHandler((request) => {
      seen.push({ promptText: request.promptText, schema: request.responseJsonSchema, model: request.model });
      return { custom: true };
    });
    const jsonResponse = await generateGoals();
    sim.setGenerateHandler(() => "plain answer");
    const textResponse = await ai.models.generateContent({ model: GENERATION_MODEL, contents: "hi" });
    expect(JSON.parse(jsonResponse.text ?? "")).toEqual({ custom: true });
    expect(textResponse.text).toBe("plain answer");
    expect(seen[0]).toEqual({ promptText: EVIDENCE_PROMPT, schema: z.toJSONSchema(GoalsSchema), model: GENERATION_MODEL });
  });

  it("also answers on the v1beta API version", async () => {
    const beta = new GoogleGenAI({ apiKey: "simulator", apiVersion: "v1beta", httpOptions: { baseUrl: sim.url } });
    const response = await beta.models.generateContent({ model: GENERATION_MODEL, contents: "hello" });
    expect(response.text).toContain("Simulated response");
    expect(sim.requests.at(-1)?.path).toBe(`/v1beta/models/${GENERATION_MODEL}:generateContent`);
  });
});

describe("generateContentStream", () => {
  it("streams at least 4 chunks that concatenate to schema-valid JSON", async () => {
    const stream = await ai.models.generateContentStream({
      model: GENERATION_MODEL,
      contents: EVIDENCE_PROMPT,
      config: { responseMimeType: "application/json", responseJsonSchema: z.toJSONSchema(GoalsSchema) },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const text = chunks.map((chunk) => chunk.text ?? "").join("");
    const unary = await generateGoals();
    expect(text).toBe(unary.text);
    expect(GoalsSchema.safeParse(JSON.parse(text)).success).toBe(true);
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(chunks.at(-1)?.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(chunks[0]?.candidates?.[0]?.finishReason).toBeUndefined();
  });

  it("throws mid-iteration when the stream is cut", async () => {
    sim.injectFault({ kind: "stream_cut", afterChunks: 2 });
    const stream = await ai.models.generateContentStream({ model: GENERATION_MODEL, contents: EVIDENCE_PROMPT });
    const received: string[] = [];
    const error = await caughtError(
      (async () => {
        for await (const chunk of stream) received.push(chunk.text ?? "");
      })(),
    );
    expect(error).toBeInstanceOf(Error);
    expect(received).toHaveLength(2);
  });
});

describe("faults", () => {
  it("rate_limit → ApiError 429 with RetryInfo in the body and a Retry-After header", async () => {
    sim.injectFault({ kind: "rate_limit", retryAfterSeconds: 7 });
    const error = await caughtError(generateGoals());
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    const body = JSON.parse((error as ApiError).message) as { error: { status: string; details: unknown[] } };
    expect(body.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(body.error.details).toContainEqual({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" });

    sim.injectFault({ kind: "rate_limit", retryAfterSeconds: 7 });
    const raw = await fetch(`${sim.url}/v1/models/${GENERATION_MODEL}:generateContent`, { method: "POST", body: "{}" });
    expect(raw.status).toBe(429);
    expect(raw.headers.get("retry-after")).toBe("7");
  });

  it("fails exactly `times` matching requests, only for the chosen operation", async () => {
    sim.injectFault({ kind: "server_error" }, { times: 2, operation: "embed" });
    await expect(generateGoals()).resolves.toBeDefined();
    const statuses = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = await embed(["x"]).then(() => undefined, (caught: unknown) => caught);
      statuses.push(error instanceof ApiError ? error.status : 200);
    }
    expect(statuses).toEqual([500, 500, 200]);
  });

  it("server_error → ApiError 500 (status INTERNAL), also on streams", async () => {
    sim.injectFault({ kind: "server_error" }, { times: 2 });
    const error = await caughtError(generateGoals());
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(500);
    expect((error as ApiError).message).toContain("INTERNAL");
    const streamError = await caughtError(ai.models.generateContentStream({ model: GENERATION_MODEL, contents: "x" }));
    expect((streamError as ApiError).status).toBe(500);
  });

  it("hang → the SDK call is aborted by its AbortSignal promptly", async () => {
    sim.injectFault({ kind: "hang" });
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 100);
    const error = await caughtError(generateGoals({ abortSignal: controller.signal }));
    expect(error).toBeInstanceOf(Error);
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(generateGoals()).resolves.toBeDefined();
  });

  it("malformed → the SDK throws on unary and streaming calls", async () => {
    sim.injectFault({ kind: "malformed" }, { times: 2 });
    const error = await caughtError(generateGoals());
    expect(error).toBeInstanceOf(SyntaxError);
    const streamError = await caughtError(
      (async () => {
        const stream = await ai.models.generateContentStream({ model: GENERATION_MODEL, contents: "x" });
        for await (const chunk of stream) void chunk;
      })(),
    );
    expect(streamError).toBeInstanceOf(Error);
  });
});

describe("latency", () => {
  it("delays unary answers and spreads stream chunks", async () => {
    sim.setLatencyMs(250);
    let started = performance.now();
    await embed(["slow"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);

    started = performance.now();
    const stream = await ai.models.generateContentStream({ model: GENERATION_MODEL, contents: EVIDENCE_PROMPT });
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      void chunk;
      arrivals.push(performance.now() - started);
    }
    expect(arrivals[0]).toBeGreaterThanOrEqual(240);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(150);
  });
});

describe("bookkeeping", () => {
  it("records every request body in order and logs one line per request", async () => {
    const before = sim.requests.length;
    const linesBefore = logLines.length;
    await embed(["recorded text"]);
    await ai.models.generateContent({ model: GENERATION_MODEL, contents: "recorded prompt", config: { temperature: 0.1 } });
    const recorded = sim.requests.slice(before);
    expect(recorded.map((request) => [request.operation, request.model])).toEqual([
      ["embed", EMBEDDING_MODEL],
      ["generate", GENERATION_MODEL],
    ]);
    expect(recorded[0]?.path).toBe(`/v1/models/${EMBEDDING_MODEL}:batchEmbedContents`);
    expect(recorded[0]?.body).toMatchObject({ requests: [{ content: { parts: [{ text: "recorded text" }] }, outputDimensionality: 768 }] });
    expect(recorded[1]?.body).toMatchObject({ contents: [{ parts: [{ text: "recorded prompt" }] }], generationConfig: { temperature: 0.1 } });
    expect(recorded[1]?.at).toBeInstanceOf(Date);
    expect(logLines.slice(linesBefore)).toHaveLength(2);
    expect(logLines.at(-1)).toContain("iepgen-gemini-simulator");
  });

  it("answers unknown paths with a Google-style 404", async () => {
    const response = await fetch(`${sim.url}/v1beta/models/x:countTokens`, { method: "POST", body: "{}" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
  });

  it("rejects a generate request without contents with 400 INVALID_ARGUMENT", async () => {
    const response = await fetch(`${sim.url}/v1beta/models/${GENERATION_MODEL}:generateContent`, { method: "POST", body: "{}" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
  });

  it("close() resolves promptly with hanging and streaming requests open", async () => {
    const other = await startGeminiSimulator({ latencyMs: 5000 });
    const client = new GoogleGenAI({ apiKey: "simulator", httpOptions: { baseUrl: other.url } });
    other.injectFault({ kind: "hang" });
    const hanging = caughtError(client.models.generateContent({ model: GENERATION_MODEL, contents: "x" }));
    const slowStream = caughtError(client.models.generateContentStream({ model: GENERATION_MODEL, contents: "y" }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(other.requests).toHaveLength(2);
    const started = performance.now();
    await other.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await hanging).toBeInstanceOf(Error);
    expect(await slowStream).toBeInstanceOf(Error);
  });
});
