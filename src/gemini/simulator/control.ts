/**
 * The simulator's HTTP control API, so tests and benchmarks in OTHER processes can inject faults,
 * read the request log and set latency. Served under /_simulator/ only when the simulator is
 * started with `controlApi: true` (the standalone `npm run gemini:simulator` does; the in-process
 * demo simulator does not); otherwise those paths are 404 like any unknown path.
 *
 *   POST   /_simulator/faults     {kind, times? | until: "cleared", operation?, retryAfterSeconds?,
 *                                  afterChunks?, probability?, seed?} → 201 the stored fault
 *   GET    /_simulator/faults     → 200 {faults: [...]} (pending, first to match first)
 *   DELETE /_simulator/faults     → 204
 *   GET    /_simulator/requests   ?since=<index | ISO time>&operation=&model= → 200 {requests: [...], next}
 *   DELETE /_simulator/requests   → 204
 *   PUT    /_simulator/latency    {ms} → 200 {ms}
 *   PUT    /_simulator/quota      {rpm, windowMs?} → 200 {rpm, windowMs, rejected} (429 beyond rpm per sliding window)
 *   GET    /_simulator/quota      → 200 {quota: {rpm, windowMs, rejected} | null}
 *   DELETE /_simulator/quota      → 204 (no quota)
 *
 * Errors use Google's shape: {error: {code, status, message}}.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { googleError, sendJson } from "./http.ts";
import type { GeminiSimulator, InjectedFault, RecordedRequest } from "./server.ts";

const PREFIX = "/_simulator";

const Operation = z.enum(["generate", "stream", "embed"]);

const faultOptions = {
  /** How many matching requests fail; default 1. */
  times: z.number().int().min(1).optional(),
  /** The one way to say "until cleared" (JSON has no Infinity). */
  until: z.literal("cleared").optional(),
  operation: Operation.optional(),
  probability: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
};

const FaultBody = z
  .discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("rate_limit"), retryAfterSeconds: z.number().int().min(0).default(1), ...faultOptions }),
    z.strictObject({ kind: z.literal("stream_cut"), afterChunks: z.number().int().min(0).default(1), ...faultOptions }),
    z.strictObject({ kind: z.enum(["server_error", "bad_request", "hang", "malformed"]), ...faultOptions }),
  ])
  .refine((body) => body.times === undefined || body.until === undefined, {
    message: 'give either "times" or "until": "cleared", not both',
  });

const LatencyBody = z.strictObject({ ms: z.number().min(0) });

const QuotaBody = z.strictObject({ rpm: z.number().int().min(1), windowMs: z.number().int().min(1).optional() });

const RequestQuery = z.strictObject({
  since: z
    .union([z.string().regex(/^\d+$/).transform(Number), z.iso.datetime({ offset: true }).transform((at) => new Date(at))], {
      error: "since must be a request index (0, 1, …) or an ISO 8601 time",
    })
    .optional(),
  operation: Operation.optional(),
  model: z.string().optional(),
});

interface Call {
  sim: GeminiSimulator;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

type Handler = (call: Call) => Promise<void> | void;

const ROUTES: Record<string, Record<string, Handler>> = {
  [`${PREFIX}/faults`]: { GET: listFaults, POST: injectFault, DELETE: clearFaults },
  [`${PREFIX}/requests`]: { GET: listRequests, DELETE: clearRequests },
  [`${PREFIX}/latency`]: { PUT: setLatency },
  [`${PREFIX}/quota`]: { GET: getQuota, PUT: setQuota, DELETE: clearQuota },
};

/** Whether a path belongs to the control API (the whole /_simulator/ namespace). */
export function isControlPath(pathname: string): boolean {
  return pathname === PREFIX || pathname.startsWith(`${PREFIX}/`);
}

/** Answers one control API request against `sim`, then logs it. Unknown paths 404, wrong methods 405. */
export async function handleControlRequest(
  sim: GeminiSimulator,
  req: IncomingMessage,
  res: ServerResponse,
  log: (line: string) => void,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://simulator");
  const methods = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
  const handler = methods && Object.hasOwn(methods, req.method ?? "") ? methods[req.method ?? ""] : undefined;
  if (!methods) sendError(res, 404, "NOT_FOUND", `No control route ${req.method} ${url.pathname}`);
  else if (!handler) sendMethodNotAllowed(res, url.pathname, Object.keys(methods).join(", "));
  else await handler({ sim, req, res, url });
  log(`${req.method} ${url.pathname}${url.search} → ${res.statusCode} (control API)`);
}

async function injectFault({ sim, req, res }: Call): Promise<void> {
  const body = await parseBody(req, res, FaultBody);
  if (!body) return;
  const { times, until, operation, probability, seed, ...fault } = body;
  const injected = sim.injectFault(fault, {
    times: until === "cleared" ? Number.POSITIVE_INFINITY : times,
    ...(operation ? { operation } : {}),
    ...(probability === undefined ? {} : { probability }),
    ...(seed === undefined ? {} : { seed }),
  });
  sendJson(res, 201, describeFault(injected));
}

function listFaults({ sim, res }: Call): void {
  sendJson(res, 200, { faults: sim.pendingFaults().map(describeFault) });
}

function clearFaults({ sim, res }: Call): void {
  sim.clearFaults();
  sendNoContent(res);
}

/** A fault as JSON, in the POST body's own terms: `remaining`, or `until: "cleared"`. */
function describeFault({ id, fault, remaining, operation, probability, seed }: InjectedFault): object {
  return {
    id,
    ...fault,
    ...(operation ? { operation } : {}),
    ...(Number.isFinite(remaining) ? { remaining } : { until: "cleared" }),
    ...(probability < 1 ? { probability, seed } : {}),
  };
}

function listRequests({ sim, res, url }: Call): void {
  const query = RequestQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!query.success) return sendError(res, 400, "INVALID_ARGUMENT", z.prettifyError(query.error));
  const { since, operation, model } = query.data;
  const requests = sim.requests
    .map(({ operation, model, path, at, body, rateLimited }, index) => ({ index, operation, model, path, at, rateLimited, body }))
    .filter((entry) => isSince(entry, since))
    .filter((entry) => (operation === undefined || entry.operation === operation) && (model === undefined || entry.model === model));
  sendJson(res, 200, { requests, next: sim.requests.length });
}

function isSince(entry: RecordedRequest & { index: number }, since: number | Date | undefined): boolean {
  if (since === undefined) return true;
  return typeof since === "number" ? entry.index >= since : entry.at.getTime() >= since.getTime();
}

function clearRequests({ sim, res }: Call): void {
  sim.requests.length = 0;
  sendNoContent(res);
}

async function setLatency({ sim, req, res }: Call): Promise<void> {
  const body = await parseBody(req, res, LatencyBody);
  if (!body) return;
  sim.setLatencyMs(body.ms);
  sendJson(res, 200, { ms: body.ms });
}

function getQuota({ sim, res }: Call): void {
  sendJson(res, 200, { quota: sim.quota() ?? null });
}

async function setQuota({ sim, req, res }: Call): Promise<void> {
  const body = await parseBody(req, res, QuotaBody);
  if (!body) return;
  sim.setQuota(body);
  sendJson(res, 200, sim.quota()!);
}

function clearQuota({ sim, res }: Call): void {
  sim.setQuota(undefined);
  sendNoContent(res);
}

/** The request's JSON body parsed by `schema`; on failure answers 400 itself and returns undefined. */
async function parseBody<T>(req: IncomingMessage, res: ServerResponse, schema: z.ZodType<T>): Promise<T | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return void sendError(res, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return void sendError(res, 400, "INVALID_ARGUMENT", z.prettifyError(parsed.error));
  return parsed.data;
}

function sendError(res: ServerResponse, code: number, status: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, code, googleError(code, status, message), headers);
}

function sendMethodNotAllowed(res: ServerResponse, pathname: string, allow: string): void {
  sendError(res, 405, "METHOD_NOT_ALLOWED", `${pathname} allows ${allow}`, { allow });
}

function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}
