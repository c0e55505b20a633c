/**
 * `npm run gemini:simulator`: runs the Gemini SIMULATOR (not Google) on 127.0.0.1 so the
 * API, worker and demo can work offline. Point GEMINI_BASE_URL at the printed URL.
 * Its HTTP control API (/_simulator/faults, /_simulator/requests, /_simulator/latency; see
 * control.ts) is on, so tests and benchmarks in other processes can inject faults.
 */
import { env } from "../../env.ts";
import { startGeminiSimulator } from "./server.ts";

const settings = env();
const simulator = await startGeminiSimulator({
  host: "127.0.0.1",
  port: settings.GEMINI_SIMULATOR_PORT,
  latencyMs: settings.GEMINI_SIMULATOR_LATENCY_MS,
  log: (line) => console.log(line),
  controlApi: true,
});

console.log(`Gemini SIMULATOR (not Google) listening at ${simulator.url} — set GEMINI_BASE_URL to this URL`);
console.log(`Control API: ${simulator.url}/_simulator/faults, /_simulator/requests, /_simulator/latency`);

function shutDown(signal: NodeJS.Signals): void {
  console.log(`Gemini SIMULATOR received ${signal}, shutting down`);
  simulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

process.once("SIGINT", shutDown);
process.once("SIGTERM", shutDown);
