/** Why a document could not be extracted (stored with the FAILED evidence as its message). */
export type ExtractionFailureCode =
  | "ENCRYPTED"
  | "TOO_MANY_PAGES"
  | "IMAGE_TOO_LARGE"
  | "CORRUPT"
  | "NOT_DOCX"
  | "TOO_LARGE_UNCOMPRESSED"
  | "TIMED_OUT"
  | "EXTRACTOR_CRASHED"
  | "NO_TEXT"
  | "UNSUPPORTED";

const CODES: ReadonlySet<string> = new Set<ExtractionFailureCode>([
  "ENCRYPTED", "TOO_MANY_PAGES", "IMAGE_TOO_LARGE", "CORRUPT", "NOT_DOCX", "TOO_LARGE_UNCOMPRESSED", "TIMED_OUT", "EXTRACTOR_CRASHED", "NO_TEXT", "UNSUPPORTED",
]);

/**
 * A document that cannot be extracted; permanent (retrying cannot help). `message` is for people,
 * e.g. "The PDF is encrypted (password-protected); upload an unprotected copy".
 */
export class ExtractionError extends Error {
  readonly code: ExtractionFailureCode;

  constructor(code: ExtractionFailureCode, message: string) {
    super(message);
    this.name = "ExtractionError";
    this.code = code;
  }
}

export function isExtractionFailureCode(value: unknown): value is ExtractionFailureCode {
  return typeof value === "string" && CODES.has(value);
}

/** "50 megapixels", "0.5 megapixels". */
export function megapixels(pixels: number): string {
  return `${Number((pixels / 1e6).toFixed(2))} megapixels`;
}

/** "200 MB" for byte limits (MB = 2^20 bytes, as EVIDENCE_MAX_BYTES's 25 MB = 26214400). */
export function megabytes(bytes: number): string {
  return `${Number((bytes / 1024 ** 2).toFixed(1))} MB`;
}

/** NO_TEXT; `detail` says why when it is known, e.g. which pages' images could not be decoded. */
export function noText(detail?: string): ExtractionError {
  return new ExtractionError("NO_TEXT", `No text could be read from the document${detail ? ` (${detail})` : ""}`);
}

export function imageTooLarge(width: number, height: number, maxPixels: number, page?: number): ExtractionError {
  const what = page === undefined ? "The image is" : `Page ${page} has an image of`;
  return new ExtractionError("IMAGE_TOO_LARGE", `${what} ${width} × ${height} pixels; at most ${megapixels(maxPixels)} (EVIDENCE_MAX_IMAGE_PIXELS)`);
}

export function tooLargeUncompressed(maxBytes: number): ExtractionError {
  return new ExtractionError(
    "TOO_LARGE_UNCOMPRESSED",
    `The document expands to more than ${megabytes(maxBytes)} when decompressed (EVIDENCE_MAX_UNCOMPRESSED_BYTES); it may be a decompression bomb`,
  );
}
