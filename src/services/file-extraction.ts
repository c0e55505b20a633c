import type pg from "pg";
import { findEvidenceFile, type Evidence } from "../db/evidence.ts";
import { ExtractionError } from "../extraction/errors.ts";
import type { ExtractedPage, ExtractionPool, ExtractionProgress } from "../extraction/index.ts";
import type { EvidenceMediaType } from "../extraction/media-types.ts";
import * as lifecycle from "../lifecycle/evidence.ts";
import type { Logger } from "../logger.ts";
import { observeExtraction } from "../monitoring/metrics.ts";

/** A document's text, page by page (page null for typed text and DOCX), and how many pages it has. */
export interface DocumentText {
  pages: { page: number | null; text: string }[];
  pageCount: number | null;
}

export interface FileExtractionDeps {
  pool: pg.Pool;
  extraction: ExtractionPool;
  logger: Logger;
}

/** Progress is written at most this often (the first and last steps always are). */
const STEP_INTERVAL_MS = 250;

/**
 * The text of an evidence document: its body for typed text; for a file, the text read from it in
 * the extraction pool's threads, reported as lifecycle steps (EXTRACTING with pages done and page
 * count, throttled) so subscribers watch it. Text an earlier attempt already read is reused, not
 * read again. A missing file is a permanent failure.
 */
export async function documentText(deps: FileExtractionDeps, evidence: Evidence, signal?: AbortSignal): Promise<DocumentText> {
  if (!evidence.file_media_type) return { pages: [{ page: null, text: evidence.body }], pageCount: null };
  const file = await findEvidenceFile(deps.pool, evidence.school_id, evidence.id);
  if (!file) throw new ExtractionError("UNSUPPORTED", "The uploaded file is missing from storage");
  if (file.extractedPages) {
    deps.logger.info({ evidenceId: evidence.id, pages: file.extractedPages.length }, "reusing the text an earlier attempt read from the file");
    return { pages: file.extractedPages, pageCount: evidence.page_count };
  }
  const progress = progressWriter(deps, evidence.id);
  await progress.write({ pagesDone: 0, pageCount: null }, true);
  const started = performance.now();
  try {
    const result = await deps.extraction.extract(file.content, file.mediaType as EvidenceMediaType, {
      signal,
      onProgress: (p) => void progress.write(p),
    });
    observeExtraction(file.mediaType, "ok", performance.now() - started, result.pages.length);
    deps.logger.info({ evidenceId: evidence.id, mediaType: file.mediaType, pages: result.pages.length,
      ocrPages: result.pages.filter((p) => p.ocr).length, ms: Math.round(performance.now() - started) }, "evidence file read");
    return { pages: result.pages.map(pageText), pageCount: result.pageCount };
  } catch (error) {
    observeExtraction(file.mediaType, error instanceof ExtractionError ? error.code : "error", performance.now() - started, 0);
    throw error;
  } finally {
    await progress.settled();
  }
}

function pageText(page: ExtractedPage): { page: number | null; text: string } {
  return { page: page.page, text: page.text };
}

/** Writes EXTRACTING steps one at a time, dropping intermediate ones that arrive faster than STEP_INTERVAL_MS. */
function progressWriter(deps: FileExtractionDeps, evidenceId: string) {
  const ctx = { db: deps.pool, log: deps.logger };
  let chain: Promise<unknown> = Promise.resolve();
  let lastWrite = 0;
  let pending: ExtractionProgress | undefined;
  const flush = () => {
    const next = pending;
    pending = undefined;
    if (!next) return Promise.resolve();
    lastWrite = Date.now();
    return lifecycle
      .step(ctx, evidenceId, { stage: "EXTRACTING", pagesDone: next.pagesDone, pageCount: next.pageCount })
      .catch((error: unknown) => deps.logger.warn({ err: error, evidenceId }, "could not record extraction progress"));
  };
  return {
    write(p: ExtractionProgress, force = false): Promise<unknown> {
      pending = p;
      const finished = p.pageCount !== null && p.pagesDone >= p.pageCount;
      if (force || finished || Date.now() - lastWrite >= STEP_INTERVAL_MS) chain = chain.then(flush);
      return chain;
    },
    settled: () => chain,
  };
}
