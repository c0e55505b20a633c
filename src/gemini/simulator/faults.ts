/**
 * The simulator's faults: a queue of failures to play instead of normal answers (injected in
 * process or through the control API), and how each is sent the way Google's API fails.
 */
import type { ServerResponse } from "node:http";
import { seededRandom } from "./random.ts";
import { googleError, sendGoogleError, sendJson, SIMULATOR_MODEL_VERSION } from "./http.ts";

/** A failure the simulator plays instead of answering normally. */
export type SimulatorFault =
  | { kind: "rate_limit"; retryAfterSeconds: number }
  | { kind: "server_error" }
  | { kind: "bad_request" }
  | { kind: "hang" }
  | { kind: "malformed" }
  | { kind: "stream_cut"; afterChunks: number };

/** "embed" covers both embedContent and batchEmbedContents. */
export type SimulatorOperation = "generate" | "stream" | "embed";

/** How to inject a fault: `times` (default 1; Infinity = until cleared) matching requests fail. */
export interface InjectFaultOptions {
  times?: number;
  operation?: SimulatorOperation;
  /** Each matching request fails with this probability (default 1); non-failing ones do not count. */
  probability?: number;
  /** Seeds the probability draws, so a run is reproducible; random when omitted. */
  seed?: number;
}

/** A fault waiting to be played; `remaining` is Infinity when it lasts until cleared. */
export interface InjectedFault {
  id: number;
  fault: SimulatorFault;
  remaining: number;
  operation: SimulatorOperation | undefined;
  probability: number;
  /** The seed of the probability draws (given or random), to replay a run. */
  seed: number;
}

interface PendingFault extends InjectedFault {
  random: () => number;
}

interface QueueState {
  faults: PendingFault[];
  count: number;
}

/** Pending faults, first to match first. */
export interface FaultQueue {
  add(fault: SimulatorFault, options?: InjectFaultOptions): InjectedFault;
  /** The first pending fault that matches `operation` and fires (its count goes down), if any. */
  take(operation: SimulatorOperation): SimulatorFault | undefined;
  pending(): InjectedFault[];
  clear(): void;
}

export function createFaultQueue(): FaultQueue {
  const state: QueueState = { faults: [], count: 0 };
  return {
    add: (fault, options) => addFault(state, fault, options),
    take: (operation) => takeFault(state, operation),
    pending: () => state.faults.map(injectedView),
    clear: () => {
      state.faults.length = 0;
    },
  };
}

function addFault(state: QueueState, fault: SimulatorFault, options: InjectFaultOptions = {}): InjectedFault {
  const times = options.times ?? 1;
  const probability = options.probability ?? 1;
  if (!(times >= 1)) throw new RangeError(`times must be at least 1, got ${times}`);
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`probability must be in [0, 1], got ${probability}`);
  state.count += 1;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const { operation } = options;
  const pending = { id: state.count, fault: { ...fault }, remaining: times, operation, probability, seed, random: seededRandom(seed) };
  state.faults.push(pending);
  return injectedView(pending);
}

/** A copy without the PRNG, safe to hand out and to serialize. */
function injectedView({ random, ...pending }: PendingFault): InjectedFault {
  return { ...pending, fault: { ...pending.fault } };
}

function faultMatches(pending: PendingFault, operation: SimulatorOperation): boolean {
  return (
    (pending.operation === undefined || pending.operation === operation) &&
    (pending.fault.kind !== "stream_cut" || operation === "stream")
  );
}

function takeFault(state: QueueState, operation: SimulatorOperation): SimulatorFault | undefined {
  const index = state.faults.findIndex(
    (pending) => faultMatches(pending, operation) && (pending.probability >= 1 || pending.random() < pending.probability),
  );
  const pending = state.faults[index];
  if (!pending) return undefined;
  pending.remaining -= 1;
  if (pending.remaining <= 0) state.faults.splice(index, 1);
  return pending.fault;
}

/** Replies to a request the way Google's API fails for this fault (a hang never replies). */
export function sendFault(res: ServerResponse, fault: SimulatorFault, operation: SimulatorOperation): void {
  switch (fault.kind) {
    case "rate_limit":
      return sendRateLimited(res, fault.retryAfterSeconds);
    case "server_error":
      return sendGoogleError(res, 500, "INTERNAL", `An internal error has occurred. (simulated by ${SIMULATOR_MODEL_VERSION})`);
    case "bad_request":
      return sendGoogleError(res, 400, "INVALID_ARGUMENT", `Request contains an invalid argument. (simulated by ${SIMULATOR_MODEL_VERSION})`);
    case "malformed":
      return sendMalformed(res, operation);
    default:
      return void res.destroy();
  }
}

/** 429 RESOURCE_EXHAUSTED with a RetryInfo delay and Retry-After, as Google answers beyond a quota. */
export function sendRateLimited(res: ServerResponse, retryAfterSeconds: number): void {
  const retryDelay = `${retryAfterSeconds}s`;
  const details = [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay }];
  const message = `Resource has been exhausted (e.g. check quota). Please retry in ${retryDelay}. (simulated by ${SIMULATOR_MODEL_VERSION})`;
  sendJson(res, 429, googleError(429, "RESOURCE_EXHAUSTED", message, details), { "retry-after": String(retryAfterSeconds) });
}

function sendMalformed(res: ServerResponse, operation: SimulatorOperation): void {
  const broken = `{"candidates": [{"content": <<malformed response from ${SIMULATOR_MODEL_VERSION}>>`;
  if (operation === "stream") {
    res.writeHead(200, { "content-type": "text/event-stream" });
    return void res.end(`data: ${broken}\r\n\r\n`);
  }
  res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
  res.end(broken);
}

