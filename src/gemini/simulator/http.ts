import type { ServerResponse } from "node:http";

/** The `modelVersion` of every simulated response; also prefixes log lines. */
export const SIMULATOR_MODEL_VERSION = "iepgen-gemini-simulator";

/** Google's error body: `{ error: { code, message, status, details? } }`. */
export function googleError(code: number, status: string, message: string, details?: object[]): object {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

/** Sends a Google-shaped error. */
export function sendGoogleError(res: ServerResponse, code: number, status: string, message: string): void {
  sendJson(res, code, googleError(code, status, message));
}

/** Sends JSON (or drops the connection if a streamed answer already started). */
export function sendJson(res: ServerResponse, statusCode: number, body: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(statusCode, { "content-type": "application/json; charset=UTF-8", ...headers });
  res.end(JSON.stringify(body));
}
