/**
 * `npm run gemini:simulator`: runs the Gemini SIMULATOR (not Google) on 127.0.0.1 so the
 * API, worker and demo can work offline. Point GEMINI_BASE_URL at the printed URL.
 * Its HTTP control API (/_simulator/faults, /_simulator/requests, /_simulator/latency; see
 * control.ts) is on, so tests and benchmarks in other processes can inject faults.
 * `--rpm <n>` (e.g. `npm run gemini:simulator -- --rpm 120`) enforces a quota: 429 beyond n requests per sliding 60 s
 * (`--quota-window-ms <ms>` shortens the window); PUT /_simulator/quota changes it at run time.
 */
import { parseArgs } from "node:util";
import { env } from "../../env.ts";
import { startGeminiSimulator } from "./server.ts";

const settings = env();
const { values: flags } = parseArgs({
  options: { rpm: { type: "string" }, "quota-window-ms": { type: "string" } },
});
const rpm = flags.rpm ? Number(flags.rpm) : undefined;
const windowMs = flags["quota-window-ms"] ? Number(flags["quota-window-ms"]) : undefined;
const simulator = await startGeminiSimulator({
  host: "127.0.0.1",
  port: settings.GEMINI_SIMULATOR_PORT,
  latencyMs: settings.GEMINI_SIMULATOR_LATENCY_MS,
  log: (line) => console.log(line),
  controlApi: true,
  ...(rpm === undefined ? {} : { quota: { rpm, ...(windowMs === undefined ? {} : { windowMs }) } }),
});

console.log(`Gemini SIMULATOR (not Google) listening at ${simulator.url} — set GEMINI_BASE_URL to this URL`);
console.log(`Control API: ${simulator.url}/_simulator/faults, /_simulator/requests, /_simulator/latency, /_simulator/quota`);
const quota = simulator.quota();
if (quota) console.log(`Simulated quota: 429 beyond ${quota.rpm} requests per ${quota.windowMs} ms (sliding)`);

function shutDown(signal: NodeJS.Signals): void {
  console.log(`Gemini SIMULATOR received ${signal}, shutting down`);
  simulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

process.once("SIGINT", shutDown);
process.once("SIGTERM", shutDown);
