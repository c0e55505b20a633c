/** Word (.docx) text with mammoth, after checking the ZIP is a Word document and not a bomb. */
import JSZip from "jszip";
import mammoth from "mammoth";
import { inflatedSize } from "./decompression.ts";
import { ExtractionError, noText, tooLargeUncompressed } from "./errors.ts";
import type { ExtractionLimits, ExtractionResult } from "./types.ts";

/**
 * word/document.xml larger than this is refused: mammoth holds the XML as a DOM, ~50× its size in
 * heap (measured: 8 MB of XML needed over 384 MB, 12 MB stayed under the watchdog's 768 MB). A
 * 100-page report's XML is a few MB.
 */
export const MAX_DOCUMENT_XML_BYTES = 12 * 1024 * 1024;

/** What JSZip knows of an entry from the ZIP's central directory (its private `_data`). */
interface ZipEntryData {
  compressedSize: number;
  uncompressedSize: number;
  compression?: { magic: string };
  compressedContent?: Uint8Array;
}

export async function extractDocx(bytes: Uint8Array, limits: ExtractionLimits): Promise<ExtractionResult> {
  await checkArchive(bytes, limits);
  let text: string;
  try {
    ({ value: text } = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }));
  } catch {
    throw new ExtractionError("CORRUPT", "The Word document is damaged and cannot be read");
  }
  text = text.replace(/\n{3,}/g, "\n\n").trim();
  if (text === "") throw noText();
  return { pageCount: null, pages: [{ page: null, text, ocr: false }] };
}

/**
 * NOT_DOCX without word/document.xml; TOO_LARGE_UNCOMPRESSED when the entries inflate past the
 * limit: first by the sizes the central directory declares, then by inflating each entry (output
 * discarded), since a hostile archive can declare small sizes and still expand to gigabytes.
 */
async function checkArchive(bytes: Uint8Array, limits: ExtractionLimits): Promise<void> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes, { checkCRC32: false });
  } catch {
    throw new ExtractionError("CORRUPT", "The Word document is damaged and cannot be read (not a valid ZIP archive)");
  }
  const document = zip.file("word/document.xml");
  if (!document) throw new ExtractionError("NOT_DOCX", "The file is a ZIP archive but not a Word document (.docx)");
  const entries = Object.values(zip.files).filter((entry) => !entry.dir);
  const data = (entry: JSZip.JSZipObject) => (entry as unknown as { _data: ZipEntryData })._data;
  const declared = entries.reduce((sum, entry) => sum + (data(entry).uncompressedSize ?? 0), 0);
  if (declared > limits.maxUncompressedBytes) throw tooLargeUncompressed(limits.maxUncompressedBytes);
  let actual = 0;
  for (const entry of entries) {
    const { compression, compressedContent, compressedSize } = data(entry);
    const size = compression?.magic === "\x08\x00" && compressedContent
      ? await inflatedSize(compressedContent, limits.maxUncompressedBytes - actual, "raw")
      : compressedSize;
    actual += size;
    if (actual > limits.maxUncompressedBytes) throw tooLargeUncompressed(limits.maxUncompressedBytes);
    if (entry === document && size > MAX_DOCUMENT_XML_BYTES) {
      throw new ExtractionError("TOO_LARGE_UNCOMPRESSED", `The Word document's text part is larger than ${MAX_DOCUMENT_XML_BYTES / 1024 ** 2} MB; split it into smaller documents`);
    }
  }
}

