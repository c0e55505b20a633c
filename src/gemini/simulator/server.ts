/**
 * A local SIMULATOR of the Gemini REST API (generativelanguage.googleapis.com), speaking the
 * protocol exactly as `@google/genai` uses it, for tests and the offline demo. Not Google:
 * answers are deterministic, built from the request itself (see generation.ts and
 * embedding.ts), and faults can be injected on demand: in-process, or over HTTP when
 * started with `controlApi` (see control.ts).
 */
import http from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { handleControlRequest, isControlPath } from "./control.ts";
import { simulatedEmbedding } from "./embedding.ts";
import { sendGoogleError, sendJson, SIMULATOR_MODEL_VERSION } from "./http.ts";
import { createQuotaWindow, type QuotaWindow, type SimulatorQuota, type SimulatorQuotaState } from "./quota.ts";
import { createFaultQueue, sendFault, sendRateLimited, type FaultQueue, type InjectedFault, type InjectFaultOptions, type SimulatorFault, type SimulatorOperation } from "./faults.ts";
import {
  defaultGeneratedText,
  estimateTokens,
  requestTexts,
  responseSchemaOf,
  splitIntoChunks,
  textOfContent,
} from "./generation.ts";

export { simulatedEmbedding } from "./embedding.ts";
export { SIMULATOR_MODEL_VERSION } from "./http.ts";
export type { InjectedFault, InjectFaultOptions, SimulatorFault, SimulatorOperation } from "./faults.ts";
export type { SimulatorQuota, SimulatorQuotaState } from "./quota.ts";

/** One request the simulator received; `model` is the bare model id (no "models/" prefix). */
export interface RecordedRequest {
  operation: SimulatorOperation;
  model: string;
  path: string;
  body: unknown;
  at: Date;
  /** Answered 429 by the simulator's quota (see setQuota). */
  rateLimited: boolean;
}

/** What a custom generate handler sees; `promptText` is the text of `contents` (not the system instruction). */
export interface GenerateRequestInfo {
  model: string;
  body: any;
  promptText: string;
  responseJsonSchema?: unknown;
}

/** Builds the model's answer: a string is the text itself, an object is JSON.stringify'd. */
export type GenerateHandler = (request: GenerateRequestInfo) => string | object;

/** Defaults: host 127.0.0.1, port 0 (random free port), no latency, default generation, no logging, no control API. */
export interface GeminiSimulatorOptions {
  host?: string;
  port?: number;
  latencyMs?: number;
  generate?: GenerateHandler;
  log?: (line: string) => void;
  /** Serve the HTTP control API under /_simulator/ (see control.ts); off, those paths are 404. */
  controlApi?: boolean;
  /** Answer 429 RESOURCE_EXHAUSTED beyond `rpm` requests in any sliding window (see quota.ts). */
  quota?: SimulatorQuota;
}

/** A running simulator. Give `url` to the SDK as `httpOptions.baseUrl`. */
export interface GeminiSimulator {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The next `times` (default 1; Infinity = until cleared) matching requests fail. stream_cut only matches streams. */
  injectFault(fault: SimulatorFault, options?: InjectFaultOptions): InjectedFault;
  /** A snapshot of the faults still pending, oldest (first to match) first. */
  pendingFaults(): InjectedFault[];
  clearFaults(): void;
  /** Delay before answering; streams also wait latency/chunks between chunks. */
  setLatencyMs(ms: number): void;
  setGenerateHandler(handler: GenerateHandler | undefined): void;
  /** Enforces a quota from now on (its window starts empty), or none. */
  setQuota(quota: SimulatorQuota | undefined): void;
  /** The quota in force, with how many requests it rejected; undefined when none. */
  quota(): SimulatorQuotaState | undefined;
  /** Stops listening and destroys every open connection, hanging and streaming ones included. */
  close(): Promise<void>;
}

const DEFAULT_EMBEDDING_DIMENSIONS = 3072;
const STREAM_CHUNK_COUNT = 6;
const ROUTE = /^\/(?:v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/;
const OPERATIONS: Record<string, SimulatorOperation> = {
  generateContent: "generate",
  streamGenerateContent: "stream",
  embedContent: "embed",
  batchEmbedContents: "embed",
};

interface Route {
  operation: SimulatorOperation;
  method: string;
  model: string;
}

interface SimulatorState {
  latencyMs: number;
  generate: GenerateHandler | undefined;
  faults: FaultQueue;
  quota: QuotaWindow;
  requests: RecordedRequest[];
  log: (line: string) => void;
  closing: AbortController;
  responseCount: number;
  control: GeminiSimulator | undefined;
}

/** A request the real API would reject with 400 INVALID_ARGUMENT. */
class InvalidArgument extends Error {}

/** Starts a simulator; resolves once it is listening. */
export async function startGeminiSimulator(options: GeminiSimulatorOptions = {}): Promise<GeminiSimulator> {
  const state: SimulatorState = {
    latencyMs: validLatency(options.latencyMs ?? 0),
    generate: options.generate,
    faults: createFaultQueue(),
    quota: createQuotaWindow(options.quota),
    requests: [],
    log: options.log ?? (() => {}),
    closing: new AbortController(),
    responseCount: 0,
    control: undefined,
  };
  const server = http.createServer((req, res) => {
    handleRequest(state, req, res).catch(() => res.destroy());
  });
  const host = options.host ?? "127.0.0.1";
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const simulator: GeminiSimulator = {
    url: `http://${hostForUrl(host)}:${port}`,
    requests: state.requests,
    injectFault: (fault, faultOptions) => state.faults.add(fault, faultOptions),
    pendingFaults: () => state.faults.pending(),
    clearFaults: () => state.faults.clear(),
    setLatencyMs: (ms) => {
      state.latencyMs = validLatency(ms);
    },
    setGenerateHandler: (handler) => {
      state.generate = handler;
    },
    setQuota: (quota) => state.quota.set(quota),
    quota: () => state.quota.state(),
    close: () => (closed ??= closeServer(server, state)),
  };
  if (options.controlApi) state.control = simulator;
  return simulator;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server, state: SimulatorState): Promise<void> {
  state.closing.abort();
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return stopped;
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function validLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a non-negative number of ms, got ${ms}`);
  return ms;
}

async function handleRequest(state: SimulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url ?? "/";
  const pathname = new URL(path, "http://simulator").pathname;
  if (state.control && isControlPath(pathname)) {
    return handleControlRequest(state.control, req, res, (line) => state.log(`[${SIMULATOR_MODEL_VERSION}] ${line}`));
  }
  const route = req.method === "POST" ? routeOf(pathname) : undefined;
  if (!route) {
    state.log(`[${SIMULATOR_MODEL_VERSION}] ${req.method} ${path} → 404 (no such method in the simulator)`);
    return sendGoogleError(res, 404, "NOT_FOUND", `Method not found: ${req.method} ${path} (${SIMULATOR_MODEL_VERSION})`);
  }
  const body = await readJsonBody(req);
  if (body === undefined) return sendGoogleError(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  const at = new Date();
  const quota = state.quota.admit(at.getTime());
  state.requests.push({ operation: route.operation, model: route.model, path, body, at, rateLimited: !quota.admitted });
  if (!quota.admitted) {
    state.log(`[${SIMULATOR_MODEL_VERSION}] POST ${path} → 429 (over the simulated quota)`);
    return sendRateLimited(res, Math.ceil(quota.retryAfterMs / 1000));
  }
  const fault = state.faults.take(route.operation);
  state.log(`[${SIMULATOR_MODEL_VERSION}] POST ${path} → ${route.operation}${fault ? ` with fault ${fault.kind}` : ""}`);
  const signal = AbortSignal.any([state.closing.signal, closeSignal(res)]);
  try {
    await respond(state, route, body, fault, res, signal);
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof InvalidArgument) return sendGoogleError(res, 400, "INVALID_ARGUMENT", error.message);
    sendGoogleError(res, 500, "INTERNAL", `Simulator failure: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function routeOf(pathname: string): Route | undefined {
  const match = ROUTE.exec(pathname);
  const [, model, method] = match ?? [];
  const operation = method ? OPERATIONS[method] : undefined;
  return model && method && operation ? { operation, method, model: decodeURIComponent(model) } : undefined;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text.trim() === "" ? {} : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function closeSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => controller.abort());
  return controller.signal;
}

async function respond(
  state: SimulatorState,
  route: Route,
  body: any,
  fault: SimulatorFault | undefined,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  if (fault?.kind === "hang") return;
  if (route.operation === "stream" && (fault === undefined || fault.kind === "stream_cut")) {
    return streamGenerated(state, route, body, fault, res, signal);
  }
  await pause(state.latencyMs, signal);
  if (fault) return sendFault(res, fault, route.operation);
  const answer = route.operation === "embed" ? embedResponse(route, body) : generateResponse(state, route, body);
  sendJson(res, 200, answer);
}

async function streamGenerated(
  state: SimulatorState,
  route: Route,
  body: any,
  fault: SimulatorFault | undefined,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const events = streamEvents(state, route, body);
  const cutAfter = fault?.kind === "stream_cut" ? fault.afterChunks : Number.POSITIVE_INFINITY;
  await pause(state.latencyMs, signal);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const [index, event] of events.entries()) {
    if (index >= cutAfter) break;
    if (index > 0) await pause(state.latencyMs / events.length, signal);
    await write(res, `data: ${JSON.stringify(event)}\r\n\r\n`);
  }
  if (cutAfter !== Number.POSITIVE_INFINITY) return void res.destroy();
  res.end();
}

function write(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve, reject) => res.write(data, (error) => (error ? reject(error) : resolve())));
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return ms > 0 ? sleep(ms, undefined, { signal }) : Promise.resolve();
}

function generatedText(state: SimulatorState, route: Route, body: any): string {
  validateGenerateBody(body);
  if (!state.generate) return defaultGeneratedText(body);
  const { promptText } = requestTexts(body);
  const answer = state.generate({ model: route.model, body, promptText, responseJsonSchema: responseSchemaOf(body) });
  return typeof answer === "string" ? answer : JSON.stringify(answer);
}

function validateGenerateBody(body: any): void {
  if (!Array.isArray(body?.contents) || body.contents.length === 0) {
    throw new InvalidArgument("* GenerateContentRequest.contents: contents is not specified");
  }
}

function generateResponse(state: SimulatorState, route: Route, body: any): object {
  const text = generatedText(state, route, body);
  return {
    candidates: [{ ...candidate(text), finishReason: "STOP" }],
    usageMetadata: usageMetadata(body, text),
    modelVersion: SIMULATOR_MODEL_VERSION,
    responseId: nextResponseId(state),
  };
}

function streamEvents(state: SimulatorState, route: Route, body: any): object[] {
  const text = generatedText(state, route, body);
  const responseId = nextResponseId(state);
  const pieces = splitIntoChunks(text, STREAM_CHUNK_COUNT);
  return pieces.map((piece, index) => {
    const last = index === pieces.length - 1;
    return {
      candidates: [last ? { ...candidate(piece), finishReason: "STOP" } : candidate(piece)],
      ...(last ? { usageMetadata: usageMetadata(body, text) } : {}),
      modelVersion: SIMULATOR_MODEL_VERSION,
      responseId,
    };
  });
}

function candidate(text: string): object {
  return { content: { role: "model", parts: [{ text }] }, index: 0 };
}

function usageMetadata(body: any, text: string): object {
  const { promptText, systemText } = requestTexts(body);
  const promptTokenCount = estimateTokens(`${systemText}${promptText}`);
  const candidatesTokenCount = estimateTokens(text);
  return { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount };
}

function nextResponseId(state: SimulatorState): string {
  state.responseCount += 1;
  return `simulated-${state.responseCount}`;
}

function embedResponse(route: Route, body: any): object {
  if (route.method === "embedContent") return { embedding: embeddingFor(body) };
  if (!Array.isArray(body?.requests) || body.requests.length === 0) {
    throw new InvalidArgument("* BatchEmbedContentsRequest.requests: requests is not specified");
  }
  return { embeddings: body.requests.map(embeddingFor) };
}

function embeddingFor(request: any): { values: number[] } {
  const dimensions = request?.outputDimensionality ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > DEFAULT_EMBEDDING_DIMENSIONS) {
    throw new InvalidArgument(`outputDimensionality must be between 1 and ${DEFAULT_EMBEDDING_DIMENSIONS}`);
  }
  return { values: simulatedEmbedding(textOfContent(request?.content), dimensions) };
}
