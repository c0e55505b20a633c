/**
 * A 20-page scanned PDF (quick: 6 pages) uploaded to one iepgen process that serves the API and
 * runs the worker (as `npm start` does), so OCR competes with the API for this process. Figures:
 * the API process's event-loop delay (max and p99, `monitorEventLoopDelay`, 10 ms resolution) from
 * the upload until the document is READY (target: max ≤ 50 ms), and the API's latency for a small
 * query sent every 100 ms meanwhile. Raw baselines from the same run: the same delay over an idle
 * window of the same length, and how long tesseract takes to recognise ONE page: synchronous
 * WebAssembly work that would block the event loop that long per page if it ran on it. The Gemini
 * simulator runs as a child process, so the measured loop holds iepgen alone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import { PDFDocument } from "pdf-lib";
import { ENGLISH_LANG_PATH } from "../src/extraction/ocr.ts";
import { SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import { createLogger } from "../src/logger.ts";
import { startRuntime } from "../src/runtime.ts";
import { createStudent } from "../src/services/students.ts";
import { atMost, round, summarize, type Bench } from "./lib/report.ts";
import { BENCH_JWT_SECRET, createBenchStack, ROOT, waitUntil } from "./lib/stack.ts";

const STATUS = `query BenchEvidence($id: ID!) { evidence(id: $id) { status error pageCount chunkCount } }`;
const PROBE = `query BenchProbe { me { id } }`;

export const run: Bench = async ({ quick }) => {
  const pages = quick ? 6 : 20;
  const stack = await createBenchStack();
  const simulator = await startSimulatorChild();
  const runtime = await startRuntime({
    databaseUrl: stack.databaseUrl, poolMax: 10, jwtSecret: BENCH_JWT_SECRET, evidenceMaxChars: 200_000, production: false,
    logger: createLogger("error", "stderr"),
    gemini: { apiKey: SIMULATOR_API_KEY, baseUrl: simulator.url, model: "gemini-2.5-flash", embeddingModel: "gemini-embedding-001",
      timeoutMs: 60_000, simulated: true, resilience: { maxRetries: 2 } },
    worker: { concurrency: 2, pollIntervalMs: 200 },
    api: { host: "127.0.0.1", port: 0 },
  });
  try {
    const tenant = await stack.tenant("CASE_MANAGER");
    const student = await createStudent(runtime.pool, tenant.viewer, { firstName: "Bench", lastName: "Scan", dateOfBirth: "2015-02-02", grade: "6" });
    const graphqlUrl = `${runtime.server!.url}/graphql`;
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(graphqlUrl, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${tenant.token}` },
        body: JSON.stringify({ query, variables }),
      });
      return ((await response.json()) as { data: any }).data;
    };
    const pdf = await scannedPdf(pages);

    const started = performance.now();
    const loaded = await measure(async (probe) => {
      const id = await upload(graphqlUrl, tenant.token, student.id, pdf);
      await waitUntil(async () => {
        await probe();
        const evidence = (await gql(STATUS, { id })).evidence;
        if (evidence.status === "FAILED") throw new Error(`the scanned PDF FAILED: ${evidence.error}`);
        return evidence.status === "READY";
      }, 15 * 60_000, "the scanned PDF to be READY");
    }, gql);
    const ingestSeconds = (performance.now() - started) / 1000;
    const idle = await measure(() => delay(Math.min(loaded.durationMs, 20_000)), gql);
    const inlineBlockMs = await onePageOcrMs();

    return {
      bench: "evidence-files",
      figures: [
        atMost(`event-loop delay max, API process during a ${pages}-page scanned PDF`, loaded.maxMs, 50, "ms", {
          baseline: { name: "idle, same window", value: idle.maxMs, unit: "ms" },
          note: `one page's OCR is ${round(inlineBlockMs)} ms of synchronous work: on the event loop it would block it that long`,
        }),
        { name: "event-loop delay p99, same window", value: loaded.p99Ms, unit: "ms", baseline: { name: "idle", value: idle.p99Ms, unit: "ms" }, target: "informational", pass: null },
        { name: "API query p99 meanwhile", value: loaded.probe.p99, unit: "ms", baseline: { name: "idle", value: idle.probe.p99, unit: "ms" }, target: "informational", pass: null },
        { name: `ingestion of ${pages} scanned pages`, value: round(ingestSeconds, 1), unit: "s", target: "informational", pass: null,
          note: `${round(pages / ingestSeconds, 2)} pages/s` },
      ],
      raw: { pages, ingestSeconds: round(ingestSeconds, 2), loaded, idle, inlineBlockMs: round(inlineBlockMs) },
    };
  } finally {
    await runtime.close();
    simulator.child.kill("SIGTERM");
    await stack.close();
  }
};

/** `npm run gemini:simulator` as a child on a free port; resolves with its URL once it listens. */
async function startSimulatorChild(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["src/gemini/simulator/main.ts"], {
    cwd: ROOT, env: { ...process.env, GEMINI_SIMULATOR_PORT: "0", LOG_LEVEL: "error" }, stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening at (http:\/\/\S+)/.exec(output)?.[1];
      if (found) resolve(found);
    });
    child.once("exit", () => reject(new Error(`the Gemini simulator did not start:\n${output}`)));
  });
  return { child, url };
}

/** Runs `work` while sampling this process's event-loop delay and timing a small API query every 100 ms. */
async function measure(work: (probe: () => Promise<void>) => Promise<unknown>, gql: (query: string) => Promise<unknown>) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  const probeMs: number[] = [];
  let lastProbe = 0;
  const probe = async () => {
    if (performance.now() - lastProbe < 100) return;
    lastProbe = performance.now();
    await gql(PROBE);
    probeMs.push(performance.now() - lastProbe);
  };
  let done = false;
  const prober = (async () => {
    while (!done) {
      await probe();
      await delay(100);
    }
  })();
  const started = performance.now();
  histogram.enable();
  try {
    await work(probe);
  } finally {
    histogram.disable();
    done = true;
    await prober;
  }
  return {
    durationMs: round(performance.now() - started),
    maxMs: round(histogram.max / 1e6), p99Ms: round(histogram.percentile(99) / 1e6), p50Ms: round(histogram.percentile(50) / 1e6),
    probe: summarize(probeMs),
  };
}

/** A PDF of `pages` image-only pages: the scanned fixture's pages repeated. */
async function scannedPdf(pages: number): Promise<Uint8Array> {
  const source = await PDFDocument.load(readFileSync(join(ROOT, "test/fixtures/evidence/scanned.pdf")));
  const target = await PDFDocument.create();
  const indices = source.getPageIndices();
  for (let page = 0; page < pages; page++) {
    const [copy] = await target.copyPages(source, [indices[page % indices.length]!]);
    target.addPage(copy!);
  }
  return target.save();
}

async function upload(graphqlUrl: string, token: string, studentId: string, pdf: Uint8Array): Promise<string> {
  const form = new FormData();
  form.append("operations", JSON.stringify({
    query: `mutation BenchUpload($input: AddEvidenceInput!) { addEvidence(input: $input) { __typename ... on AddEvidenceSuccess { evidence { id } } ... on Error { message } } }`,
    variables: { input: { studentId, kind: "EVALUATION", title: "Scanned evaluation", file: null } },
  }));
  form.append("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.append("0", new Blob([new Uint8Array(pdf)]), "scanned.pdf");
  const response = await fetch(graphqlUrl, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
  const body = (await response.json()) as { data?: { addEvidence?: { __typename: string; evidence?: { id: string }; message?: string } } };
  const payload = body.data?.addEvidence;
  if (!payload?.evidence) throw new Error(`upload refused: ${JSON.stringify(body)}`);
  return payload.evidence.id;
}

/** The baseline: how long tesseract.js takes to recognise one page image (in its own thread, timed from here). */
async function onePageOcrMs(): Promise<number> {
  const { createWorker } = await import("tesseract.js");
  const worker = await createWorker("eng", 1, { langPath: ENGLISH_LANG_PATH, gzip: true, cacheMethod: "none", errorHandler: () => {} });
  try {
    const image = readFileSync(join(ROOT, "test/fixtures/evidence/letter.png"));
    const started = performance.now();
    await worker.recognize(image);
    return performance.now() - started;
  } finally {
    await worker.terminate();
  }
}
