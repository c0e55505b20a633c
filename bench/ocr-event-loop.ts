/**
 * How much a 50-page OCR holds the main thread's event loop when it runs through ExtractionPool
 * (the target: under 50 ms). A 50-page scanned PDF is built in memory (pdf-lib, the scanned
 * page fixture embedded on every page) and extracted through a real pool (worker threads, real
 * tesseract). Meanwhile the main thread's event-loop delay is measured two ways:
 * perf_hooks.monitorEventLoopDelay (resolution 10 ms) and a setInterval(10 ms) lag probe.
 * Raw baselines from the same run:
 *   - idle: the same measurements over the same duration with nothing running;
 *   - on the event loop: one page OCRed by tesseract's engine on the main thread itself (tesseract.js's
 *     worker script driven in-process), i.e. what OCR would cost if it were not in a thread.
 *
 * Run: node bench/ocr-event-loop.ts [--pages 50]
 * Prints a table (PASS/MISS against 50 ms), then the raw numbers as JSON on the last line.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { PDFDocument } from "pdf-lib";
import { ExtractionPool, MEDIA_TYPES } from "../src/extraction/index.ts";
import { ENGLISH_LANG_PATH } from "../src/extraction/ocr.ts";
import { createLogger } from "../src/logger.ts";
import { atMost, round, type Bench, type BenchResult, type Figure } from "./lib/report.ts";

const TARGET_MS = 50;
const RESOLUTION_MS = 10;
const PAGE_IMAGE = new URL("../test/fixtures/evidence/scanned-page.png", import.meta.url);

interface Delay {
  /** monitorEventLoopDelay, ms */
  histogramMaxMs: number;
  histogramP99Ms: number;
  /** setInterval(10 ms) lateness, ms */
  probeMaxMs: number;
  probeP99Ms: number;
  probeTicks: number;
}

/** Runs `work` while measuring the event loop's delay both ways. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; delay: Delay; ms: number }> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const lags: number[] = [];
  let expected = performance.now() + RESOLUTION_MS;
  const probe = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + RESOLUTION_MS;
  }, RESOLUTION_MS);
  histogram.enable();
  const started = performance.now();
  try {
    const value = await work();
    return { value, ms: performance.now() - started, delay: delayOf(histogram, lags) };
  } finally {
    histogram.disable();
    clearInterval(probe);
  }
}

function delayOf(histogram: ReturnType<typeof monitorEventLoopDelay>, lags: number[]): Delay {
  const sorted = [...lags].sort((a, b) => a - b);
  // The histogram counts from the start of each sampling interval; subtract it as Node's docs do.
  const lateness = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS));
  return {
    histogramMaxMs: lateness(histogram.max),
    histogramP99Ms: lateness(histogram.percentile(99)),
    probeMaxMs: round(sorted.at(-1) ?? 0),
    probeP99Ms: round(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0),
    probeTicks: lags.length,
  };
}

async function scannedPdf(pages: number): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const image = await pdf.embedPng(readFileSync(PAGE_IMAGE));
  for (let i = 0; i < pages; i++) pdf.addPage([612, 792]).drawImage(image, { x: 0, y: 0, width: 612, height: 792 });
  return pdf.save();
}

type Send = (message: { status: string; data: unknown }) => void;
interface WorkerScript {
  setAdapter(adapter: object): void;
  dispatchHandlers(packet: object, send: Send): void;
}

/**
 * tesseract's engine on this thread: tesseract.js's own worker script, driven in-process with its
 * Node adapter (tesseract.js itself always starts a worker thread). Only the baseline uses this.
 */
async function mainThreadTesseract(): Promise<(image: Uint8Array) => Promise<string>> {
  const require = createRequire(import.meta.url);
  const script = require("tesseract.js/src/worker-script/index.js") as WorkerScript;
  script.setAdapter({
    getCore: require("tesseract.js/src/worker-script/node/getCore.js"),
    gunzip: require("tesseract.js/src/worker-script/node/gunzip.js"),
    fetch: () => Promise.reject(new Error("no network in this bench")),
    ...(require("tesseract.js/src/worker-script/node/cache.js") as object),
  });
  let jobs = 0;
  const call = (action: string, payload: object) =>
    new Promise<unknown>((resolve, reject) => {
      script.dispatchHandlers({ workerId: "main-thread", jobId: `job-${++jobs}`, action, payload }, ({ status, data }) => {
        if (status === "resolve") resolve(data);
        else if (status === "reject") reject(new Error(String(data)));
      });
    });
  await call("load", { options: { lstmOnly: true, logging: false } });
  await call("loadLanguage", { langs: "eng", options: { langPath: ENGLISH_LANG_PATH, gzip: true, cacheMethod: "none", lstmOnly: true } });
  await call("initialize", { langs: "eng", oem: 1, config: {} });
  return async (image) => ((await call("recognize", { image, options: {}, output: { text: true } })) as { text: string }).text;
}

export const run: Bench = async ({ quick }) => {
  const pages = quick ? 20 : 50;
  return measure(pages);
};

async function measure(pages: number): Promise<BenchResult> {
  const pdf = await scannedPdf(pages);
  const pool = new ExtractionPool({
    size: 2,
    logger: createLogger("silent", "stderr"),
    limits: { maxPages: 200, budgetMs: 600_000, maxImagePixels: 50_000_000, maxUncompressedBytes: 200 * 1024 ** 2 },
  });
  let extraction;
  try {
    extraction = await measured(() => pool.extract(pdf, MEDIA_TYPES.PDF));
  } finally {
    await pool.close();
  }
  const ocrPages = extraction.value.pages.filter((page) => page.ocr && /classroom observation/i.test(page.text)).length;
  if (ocrPages !== pages) throw new Error(`expected ${pages} OCRed pages, got ${ocrPages}`);
  const idle = await measured(() => sleep(extraction.ms));
  const recognize = await mainThreadTesseract();
  const image = new Uint8Array(readFileSync(PAGE_IMAGE));
  await recognize(image); // warm-up: the first call also compiles the model's network
  const onLoop = await measured(async () => {
    await sleep(3 * RESOLUTION_MS);
    const text = await recognize(image);
    await sleep(3 * RESOLUTION_MS);
    return text;
  });
  const worst = (delay: Delay) => Math.max(delay.histogramMaxMs, delay.probeMaxMs);
  const pagesPerSecond = round(pages / (extraction.ms / 1000));
  const figures: Figure[] = [
    atMost(`event-loop max delay, ${pages}-page OCR in the pool`, worst(extraction.delay), TARGET_MS, "ms", {
      baseline: { name: "idle, same duration", value: worst(idle.delay), unit: "ms" },
    }),
    { name: "event-loop p99 delay, same run", value: Math.max(extraction.delay.histogramP99Ms, extraction.delay.probeP99Ms), unit: "ms", target: "informational", pass: null,
      baseline: { name: "idle p99", value: Math.max(idle.delay.histogramP99Ms, idle.delay.probeP99Ms), unit: "ms" } },
    { name: "OCR throughput, one document", value: pagesPerSecond, unit: "pages/s", target: "informational", pass: null },
    { name: "event-loop delay of ONE page OCRed on the main thread", value: worst(onLoop.delay), unit: "ms", target: "informational (what not using threads costs)", pass: null },
  ];
  return {
    bench: "ocr-event-loop",
    figures,
    raw: { pages, extractionMs: round(extraction.ms), pagesPerSecond, extraction: extraction.delay, idle: idle.delay, mainThreadOnePage: { ms: round(onLoop.ms), ...onLoop.delay }, targetMs: TARGET_MS },
  };
}

function print(result: BenchResult): void {
  const rows = [["figure", "value", "baseline (same run)", "target", "verdict"]];
  for (const figure of result.figures) {
    rows.push([
      figure.name, `${figure.value} ${figure.unit}`, figure.baseline ? `${figure.baseline.name}: ${figure.baseline.value} ${figure.baseline.unit}` : "",
      figure.target, figure.pass === null ? "" : figure.pass ? "PASS" : "MISS",
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "));
  console.log(`(max of monitorEventLoopDelay at ${RESOLUTION_MS} ms resolution and a ${RESOLUTION_MS} ms setInterval lag probe)`);
  console.log(JSON.stringify(result.raw));
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { pages: { type: "string", default: "50" } } });
  print(await measure(Number(values.pages)));
}
