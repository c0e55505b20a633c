/**
 * Limits on uploaded evidence files and their extraction (env: EVIDENCE_MAX_BYTES,
 * EVIDENCE_MAX_PAGES, EXTRACTION_THREADS, EXTRACTION_BUDGET_MS, EVIDENCE_MAX_IMAGE_PIXELS,
 * EVIDENCE_MAX_UNCOMPRESSED_BYTES). Bytes are checked at upload; pages at upload when a PDF's page
 * count can be read quickly, and always again in the ingestion job; the rest in the ingestion job.
 */
export interface EvidenceFileLimits {
  /** Largest upload, in bytes (default 25 MB). */
  maxBytes: number;
  /** Most pages a PDF may have (default 200). */
  maxPages: number;
  /** Worker threads for PDF parsing, DOCX and OCR per process (default 2). */
  extractionThreads: number;
  /** Wall-clock budget for one document's extraction; a runaway one is ended and FAILED (default 5 min). */
  extractionBudgetMs: number;
  /** Largest image (width × height) OCR accepts, standalone or inside a PDF (default 50 megapixels). */
  maxImagePixels: number;
  /** Most bytes a DOCX may unpack to (default 200 MB): a zip bomb is refused before it is unpacked. */
  maxUncompressedBytes: number;
}

export const DEFAULT_EVIDENCE_FILE_LIMITS: EvidenceFileLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxPages: 200,
  extractionThreads: 2,
  extractionBudgetMs: 5 * 60_000,
  maxImagePixels: 50_000_000,
  maxUncompressedBytes: 200 * 1024 * 1024,
};
