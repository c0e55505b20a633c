/** Plain text: UTF-8, as sniffMediaType accepted it. */
import { ExtractionError, noText } from "./errors.ts";
import type { ExtractionResult } from "./types.ts";

export function extractPlainText(bytes: Uint8Array): ExtractionResult {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/\r\n?/g, "\n").trim();
  } catch {
    throw new ExtractionError("CORRUPT", "The text file is not valid UTF-8");
  }
  if (text === "") throw noText();
  return { pageCount: null, pages: [{ page: null, text, ocr: false }] };
}
