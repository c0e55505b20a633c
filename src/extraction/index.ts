/**
 * The extraction pool: a few worker threads (node:worker_threads) that parse PDFs and Word files
 * and run OCR, so none of that holds the event loop. Each document has a wall-clock budget; a
 * thread that overruns it, dies or is aborted is terminated and replaced, and only that document
 * fails. See thread.ts for what runs inside.
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "../logger.ts";
import { ExtractionError, isExtractionFailureCode } from "./errors.ts";
import { MEDIA_TYPES, SUPPORTED_MEDIA_TYPES, type EvidenceMediaType } from "./media-types.ts";
import type { ThreadJob, ThreadMessage } from "./thread.ts";
import type { ExtractionLimits, ExtractionProgress, ExtractionResult } from "./types.ts";

export { ExtractionError, type ExtractionFailureCode } from "./errors.ts";
export { extensionFor, MEDIA_TYPES, sniffMediaType, SUPPORTED_MEDIA_TYPES, type EvidenceMediaType } from "./media-types.ts";
export type { ExtractedPage, ExtractionLimits, ExtractionProgress, ExtractionResult } from "./types.ts";

export interface ExtractionPoolOptions {
  /** Threads (EXTRACTION_THREADS); made on first use. */
  size: number;
  limits: ExtractionLimits;
  logger: Logger;
}

export interface ExtractOptions {
  signal?: AbortSignal;
  onProgress?: (progress: ExtractionProgress) => void;
}

/** countPdfPages's budget, queueing included: past it the page count is left to ingestion. */
export const COUNT_BUDGET_MS = 3_000;
/** A count that got a thread late (after a thread start, say) still gets this long to run. */
const MIN_COUNT_RUN_MS = 500;
/**
 * V8 heap of one thread. Inputs are sized, and the watchdog ends a thread at 75% of it, so it is
 * never reached: a thread at its heap limit can abort the whole process (exit 134) instead of
 * failing alone. 1024 rather than 512 MB because mammoth needs ~50× a document's XML in heap.
 */
const THREAD_HEAP_MB = 1024;
/**
 * Memory watchdog, polled while a thread works (worker.getHeapStatistics answers even while the
 * thread is busy): its V8 heap past this share of THREAD_HEAP_MB, or its ArrayBuffers (decoded
 * streams and images live there, outside the heap limit) past THREAD_EXTERNAL_MB, end the document
 * before the machine or the heap limit does. The pre-checks (bombs, page count, image size) refuse
 * known cases earlier; this is the net under the ones they miss.
 */
const THREAD_EXTERNAL_MB = 1536;
const HEAP_SHARE = 0.75;
const WATCH_INTERVAL_MS = 200;
const THREAD_URL = new URL("./thread.ts", import.meta.url);

interface Job {
  task: ThreadJob["task"];
  bytes: Uint8Array;
  mediaType: EvidenceMediaType;
  budgetMs: number;
  options: ExtractOptions;
  resolve: (value: ExtractionResult | number) => void;
  reject: (reason: unknown) => void;
  /** For countPdfPages: one deadline (Date.now()) for queueing and running together. */
  deadline?: number;
}

interface Slot {
  index: number;
  worker: Worker;
  running?: { id: number; job: Job; timer?: NodeJS.Timeout; onAbort: () => void };
  /** Set once the thread has loaded its modules; the first job waits for it before its budget starts. */
  ready: boolean;
  gone: boolean;
}

/** A small pool of worker threads doing PDF parsing, DOCX and OCR off the event loop. */
export class ExtractionPool {
  readonly #size: number;
  readonly #limits: ExtractionLimits;
  readonly #logger: Logger;
  readonly #slots: (Slot | undefined)[];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(options: ExtractionPoolOptions) {
    this.#size = Math.max(1, Math.floor(options.size));
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#slots = Array.from({ length: this.#size }, () => undefined);
  }

  /**
   * Extracts text per page. Rejects with ExtractionError for a bad/hostile document (the thread is
   * terminated and replaced when it overruns `budgetMs` or dies); rejects with signal.reason when
   * `signal` aborts. The caller's bytes are copied, never detached.
   */
  extract(bytes: Uint8Array, mediaType: EvidenceMediaType, options: ExtractOptions = {}): Promise<ExtractionResult> {
    if (!SUPPORTED_MEDIA_TYPES.includes(mediaType)) {
      return Promise.reject(new ExtractionError("UNSUPPORTED", `Files of type ${mediaType} cannot be read; supported: ${SUPPORTED_MEDIA_TYPES.join(", ")}`));
    }
    return this.#submit({ task: "extract", bytes, mediaType, budgetMs: this.#limits.budgetMs, options }) as Promise<ExtractionResult>;
  }

  /** PDF page count only (for the upload-time EVIDENCE_MAX_PAGES check), with a short budget; undefined when it cannot tell quickly (then the ingestion decides). */
  async countPdfPages(bytes: Uint8Array): Promise<number | undefined> {
    try {
      const deadline = Date.now() + COUNT_BUDGET_MS;
      return (await this.#submit({ task: "count", bytes, mediaType: MEDIA_TYPES.PDF, budgetMs: COUNT_BUDGET_MS, options: {}, deadline })) as number;
    } catch {
      return undefined;
    }
  }

  /** Terminates the threads; queued and running documents reject. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    const closed = new Error("The extraction pool is closed");
    for (const job of this.#queue.splice(0)) job.reject(closed);
    await Promise.all(this.#slots.map((slot) => (slot ? this.#stop(slot, closed) : undefined)));
  }

  #submit(job: Omit<Job, "resolve" | "reject">): Promise<ExtractionResult | number> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error("The extraction pool is closed"));
      const { signal } = job.options;
      if (signal?.aborted) return reject(signal.reason);
      const queued: Job = { ...job, resolve, reject };
      this.#queue.push(queued);
      signal?.addEventListener("abort", () => this.#dequeue(queued, signal.reason), { once: true });
      if (job.deadline !== undefined) {
        // Both threads may be busy with long documents: do not keep the caller waiting for them.
        const giveUp = () => this.#dequeue(queued, new ExtractionError("TIMED_OUT", "Waited too long for a free extraction thread"));
        setTimeout(giveUp, Math.max(0, job.deadline - Date.now())).unref();
      }
      this.#pump();
    });
  }

  #dequeue(job: Job, reason: unknown): void {
    const at = this.#queue.indexOf(job);
    if (at === -1) return;
    this.#queue.splice(at, 1);
    job.reject(reason);
  }

  #pump(): void {
    for (let index = 0; index < this.#size && this.#queue.length > 0 && !this.#closed; index++) {
      if (this.#slots[index]?.running) continue;
      const job = this.#queue.shift()!;
      this.#start((this.#slots[index] ??= this.#spawn(index)), job);
    }
  }

  #start(slot: Slot, job: Job): void {
    const { signal } = job.options;
    const onAbort = () => void this.#stop(slot, signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    slot.running = { id: this.#nextId++, job, onAbort };
    if (slot.ready) this.#post(slot);
  }

  /** Sends the slot's job to its (ready) thread and starts the job's budget. */
  #post(slot: Slot): void {
    const running = slot.running!;
    const { job } = running;
    const budgetMs = job.deadline === undefined ? job.budgetMs : Math.max(MIN_COUNT_RUN_MS, job.deadline - Date.now());
    running.timer = setTimeout(() => {
      const seconds = Math.round(budgetMs / 100) / 10;
      void this.#stop(slot, new ExtractionError("TIMED_OUT", `Extraction took longer than ${seconds} s (EXTRACTION_BUDGET_MS); the document may be too large or malformed`));
    }, budgetMs);
    // A copy of the caller's bytes is transferred (moved, not cloned again) to the thread.
    const bytes = new Uint8Array(job.bytes);
    const message: ThreadJob = { id: running.id, task: job.task, bytes, mediaType: job.mediaType };
    slot.worker.postMessage(message, [bytes.buffer]);
    this.#watchdog ??= setInterval(() => this.#watchMemory(), WATCH_INTERVAL_MS).unref();
  }

  #watchMemory(): void {
    const busy = this.#slots.filter((slot): slot is Slot => Boolean(slot?.running?.timer) && !slot!.gone);
    if (busy.length === 0) {
      clearInterval(this.#watchdog);
      this.#watchdog = undefined;
      return;
    }
    for (const slot of busy) {
      const running = slot.running;
      slot.worker.getHeapStatistics().then((stats) => {
        if (slot.running !== running || slot.gone) return;
        const heapMb = stats.used_heap_size / 1024 ** 2;
        const externalMb = stats.external_memory / 1024 ** 2;
        if (heapMb <= THREAD_HEAP_MB * HEAP_SHARE && externalMb <= THREAD_EXTERNAL_MB) return;
        this.#logger.warn({ thread: slot.index, heapMb: Math.round(heapMb), externalMb: Math.round(externalMb) }, "extraction thread over its memory limit");
        void this.#stop(slot, new ExtractionError(
          "TOO_LARGE_UNCOMPRESSED",
          `Reading the document needed more than ${heapMb > THREAD_HEAP_MB * HEAP_SHARE ? Math.round(THREAD_HEAP_MB * HEAP_SHARE) : THREAD_EXTERNAL_MB} MB of memory; it may be a decompression bomb or far larger than it looks`,
        ));
      }, () => {});
    }
  }

  #spawn(index: number): Slot {
    const worker = new Worker(THREAD_URL, {
      name: `extraction-${index}`,
      workerData: { limits: this.#limits },
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB },
      stdout: true,
      stderr: true,
    });
    worker.unref();
    const slot: Slot = { index, worker, ready: false, gone: false };
    worker.on("message", (message: ThreadMessage) => this.#onMessage(slot, message));
    worker.on("error", (error) => this.#onDeath(slot, `${error.name}: ${error.message}`));
    worker.on("exit", (code) => this.#onDeath(slot, `exit code ${code}`));
    // pdf.js warnings and tesseract's leptonica messages: kept out of stdout, visible at debug level.
    for (const stream of [worker.stdout, worker.stderr]) {
      stream.on("data", (chunk: Buffer) => this.#logger.debug({ thread: index, output: chunk.toString("utf8").slice(0, 2000) }, "extraction thread output"));
    }
    return slot;
  }

  #onMessage(slot: Slot, message: ThreadMessage): void {
    if (message.type === "ready") {
      slot.ready = true;
      if (slot.running && !slot.gone) this.#post(slot);
      return;
    }
    const running = slot.running;
    if (!running || running.id !== message.id || slot.gone) return;
    if (message.type === "progress") {
      try {
        running.job.options.onProgress?.(message.progress);
      } catch (error) {
        this.#logger.warn({ err: error }, "extraction progress listener threw");
      }
      return;
    }
    this.#release(slot);
    if (message.type === "done") return running.job.resolve(message.result);
    if (message.detail) this.#logger.warn({ code: message.code, detail: message.detail }, "extraction failed unexpectedly");
    const code = isExtractionFailureCode(message.code) ? message.code : "EXTRACTOR_CRASHED";
    running.job.reject(new ExtractionError(code, message.message));
  }

  /** The slot's job is over (settled by the caller); the thread takes the next one. */
  #release(slot: Slot): Slot["running"] {
    const running = slot.running;
    if (running) {
      clearTimeout(running.timer);
      running.job.options.signal?.removeEventListener("abort", running.onAbort);
      slot.running = undefined;
    }
    queueMicrotask(() => this.#pump());
    return running;
  }

  /** Terminates the slot's thread (budget overrun, abort, close) and rejects its job with `reason`. */
  async #stop(slot: Slot, reason: unknown): Promise<void> {
    if (slot.gone) return;
    slot.gone = true;
    if (this.#slots[slot.index] === slot) this.#slots[slot.index] = undefined;
    this.#release(slot)?.job.reject(reason);
    await slot.worker.terminate().catch(() => {});
  }

  /** The thread died by itself (uncaught error, out of memory, exit): its document fails, a new thread replaces it. */
  #onDeath(slot: Slot, cause: string): void {
    if (slot.gone) return;
    const running = slot.running;
    this.#logger.warn({ thread: slot.index, cause, busy: Boolean(running) }, "extraction thread died");
    void this.#stop(slot, new ExtractionError("EXTRACTOR_CRASHED", `The extractor stopped unexpectedly while reading the document (${cause}); the file may be malformed`));
  }
}
