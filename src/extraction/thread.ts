/**
 * Entry of an extraction thread (node:worker_threads), started by ExtractionPool. Runs one job at a
 * time: PDF parsing, DOCX, OCR, all off the API's and worker's event loop. Failures a person should
 * read come back as ExtractionError code + message; anything else as EXTRACTOR_CRASHED.
 */
import { parentPort, workerData } from "node:worker_threads";
import { extractDocx } from "./docx.ts";
import { ExtractionError } from "./errors.ts";
import { extractImage } from "./image.ts";
import { MEDIA_TYPES, type EvidenceMediaType } from "./media-types.ts";
import { Ocr } from "./ocr.ts";
import { countPdfPages, extractPdf } from "./pdf.ts";
import { extractPlainText } from "./text.ts";
import type { ExtractionLimits, ExtractionProgress, ExtractionResult } from "./types.ts";

/** A job from the pool. */
export interface ThreadJob {
  id: number;
  task: "extract" | "count";
  bytes: Uint8Array;
  mediaType: EvidenceMediaType;
}

/** What the thread posts back for a job. */
export type ThreadMessage =
  | { id: number; type: "progress"; progress: ExtractionProgress }
  | { id: number; type: "done"; result: ExtractionResult | number }
  | { id: number; type: "failed"; code: ExtractionError["code"]; message: string; detail?: string }
  | { id: 0; type: "ready" };

const port = parentPort!;
const { limits } = workerData as { limits: ExtractionLimits };
const ocr = new Ocr();

port.on("message", (job: ThreadJob) => {
  void run(job).then(
    (result) => post({ id: job.id, type: "done", result }),
    (error: unknown) => post(failure(job.id, error)),
  );
});

// Modules are loaded: the pool starts a job's budget from here, not from the thread's start.
post({ id: 0, type: "ready" });

function post(message: ThreadMessage): void {
  port.postMessage(message);
}

async function run({ id, task, bytes, mediaType }: ThreadJob): Promise<ExtractionResult | number> {
  const onProgress = (progress: ExtractionProgress) => post({ id, type: "progress", progress });
  if (task === "count") return countPdfPages(bytes, limits);
  switch (mediaType) {
    case MEDIA_TYPES.PDF:
      return extractPdf(bytes, limits, ocr, onProgress);
    case MEDIA_TYPES.DOCX:
      return extractDocx(bytes, limits);
    case MEDIA_TYPES.PNG:
    case MEDIA_TYPES.JPEG:
    case MEDIA_TYPES.TIFF:
      return extractImage(bytes, limits, ocr, onProgress);
    case MEDIA_TYPES.TEXT:
      return extractPlainText(bytes);
    default:
      throw new ExtractionError("UNSUPPORTED", `Files of type ${String(mediaType)} cannot be read`);
  }
}

function failure(id: number, error: unknown): ThreadMessage {
  if (error instanceof ExtractionError) return { id, type: "failed", code: error.code, message: error.message };
  return {
    id, type: "failed", code: "EXTRACTOR_CRASHED",
    message: "The extractor failed while reading the document; the file may be malformed",
    detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}
