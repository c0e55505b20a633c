/** Shapes shared by the pool (main thread) and the extraction thread. */

export interface ExtractedPage {
  /** 1-based for PDFs and images; null for DOCX and plain text. */
  page: number | null;
  text: string;
  /** Whether the text was read by OCR (a scanned page or an image). */
  ocr: boolean;
}

export interface ExtractionResult {
  /** Pages of a PDF (1 for an image); null for DOCX and plain text. */
  pageCount: number | null;
  pages: ExtractedPage[];
}

export interface ExtractionProgress {
  pagesDone: number;
  pageCount: number | null;
}

export interface ExtractionLimits {
  /** EVIDENCE_MAX_PAGES */
  maxPages: number;
  /** EXTRACTION_BUDGET_MS: wall-clock time one document may take. */
  budgetMs: number;
  /** EVIDENCE_MAX_IMAGE_PIXELS: width × height of one image. */
  maxImagePixels: number;
  /** EVIDENCE_MAX_UNCOMPRESSED_BYTES: what one compressed stream or archive may inflate to. */
  maxUncompressedBytes: number;
}

export type ProgressListener = (progress: ExtractionProgress) => void;
