/**
 * Text of a PNG, JPEG or TIFF image by OCR, after checking its size from the header alone. A TIFF
 * with several frames (a fax, a scanner's multi-page file) is read frame by frame, each a page.
 */
import { imageSize } from "image-size";
import UTIF from "utif2";
import { ExtractionError, imageTooLarge, noText } from "./errors.ts";
import type { Ocr } from "./ocr.ts";
import { IMAGE_KIND, toPnm } from "./raster.ts";
import type { ExtractedPage, ExtractionLimits, ExtractionResult, ProgressListener } from "./types.ts";

type TiffFrame = UTIF.IFD;
/** utif2's decode takes options its types leave out (parseMN: false skips camera maker notes). */
const decodeDirectories = UTIF.decode as (file: ArrayBuffer, options: { parseMN: boolean; debug: boolean }) => TiffFrame[];

/** TIFF compressions utif2 decodes (none, CCITT fax, LZW, JPEG, Deflate, PackBits, Thunderscan). */
const READABLE_COMPRESSIONS: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7, 8, 32773, 32809, 32946]);
/** More bits per pixel than 16-bit RGBA is not a scan; it would only make decoding allocate more. */
const MAX_BITS_PER_PIXEL = 64;
/** Bytes of each TIFF field type (1 BYTE … 13 IFD); an entry's values must lie within the file. */
const TIFF_TYPE_BYTES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

/**
 * Pages 1..n with progress per page: one for a PNG, JPEG or single-frame TIFF (read whole by
 * tesseract), one per frame for a multi-frame TIFF. EVIDENCE_MAX_PAGES applies to the frame count
 * before any frame is decoded; frames without text are pages with "", and no text at all is NO_TEXT.
 */
export async function extractImage(bytes: Uint8Array, limits: ExtractionLimits, ocr: Ocr, onProgress: ProgressListener): Promise<ExtractionResult> {
  const directories = isTiff(bytes) ? tiffDirectories(bytes) : [];
  if (directories.length > 1) return extractTiffFrames(bytes, directories, limits, ocr, onProgress);
  onProgress({ pagesDone: 0, pageCount: 1 });
  checkImageSize(bytes, limits);
  let text: string;
  try {
    text = await ocr.recognize(bytes);
  } catch {
    throw new ExtractionError("CORRUPT", "The image is damaged and cannot be read");
  }
  if (text === "") throw noText();
  onProgress({ pagesDone: 1, pageCount: 1 });
  return { pageCount: 1, pages: [{ page: 1, text, ocr: true }] };
}

/** IMAGE_TOO_LARGE before any pixel is decoded (a 30000 × 30000 PNG is 150 KB on disk, 3.6 GB decoded). */
function checkImageSize(bytes: Uint8Array, limits: ExtractionLimits): void {
  let frames: { width?: number; height?: number }[];
  try {
    const size = imageSize(bytes);
    frames = size.images?.length ? size.images : [size];
  } catch {
    throw new ExtractionError("CORRUPT", "The image is damaged and cannot be read");
  }
  for (const { width = 0, height = 0 } of frames) {
    if (width * height > limits.maxImagePixels) throw imageTooLarge(width, height, limits.maxImagePixels);
    if (width === 0 || height === 0) throw new ExtractionError("CORRUPT", "The image is damaged and cannot be read (no size in its header)");
  }
}

/** Frames decoded and OCRed one at a time, so only one frame's pixels are ever in memory. */
async function extractTiffFrames(
  bytes: Uint8Array, directories: number[], limits: ExtractionLimits, ocr: Ocr, onProgress: ProgressListener,
): Promise<ExtractionResult> {
  const pageCount = directories.length;
  if (pageCount > limits.maxPages) {
    throw new ExtractionError("TOO_MANY_PAGES", `The TIFF has ${pageCount} pages; at most ${limits.maxPages} (EVIDENCE_MAX_PAGES)`);
  }
  checkImageSize(bytes, limits);
  const file = exactArrayBuffer(bytes);
  const frames = readFrames(bytes, file, directories);
  frames.forEach((frame, index) => checkFrame(frame, index + 1, limits));
  onProgress({ pagesDone: 0, pageCount });
  const pages: ExtractedPage[] = [];
  for (let page = 1; page <= pageCount; page++) {
    const pnm = decodeFrame(file, frames[page - 1]!, page);
    let text: string;
    try {
      text = await ocr.recognize(pnm);
    } catch {
      throw frameDamaged(page);
    }
    pages.push({ page, text, ocr: true });
    onProgress({ pagesDone: page, pageCount });
  }
  if (pages.every((page) => page.text === "")) throw noText();
  return { pageCount, pages };
}

function isTiff(bytes: Uint8Array): boolean {
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(4, bytes.byteLength)).toString("latin1");
  return magic === "II*\0" || magic === "MM\0*";
}

/**
 * Offsets of the TIFF's image directories (one per frame), following the chain from the header
 * without decoding anything. A chain leaving the file or looping back after two or more frames is
 * CORRUPT; before that, the file goes to tesseract whole, as a single image always has.
 */
function tiffDirectories(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const littleEndian = bytes[0] === 0x49;
  const offsets: number[] = [];
  // Each directory takes at least 6 bytes, so a longer chain must revisit one.
  const mostDirectories = Math.floor(bytes.byteLength / 6);
  for (let offset = bytes.byteLength >= 8 ? view.getUint32(4, littleEndian) : 0; offset !== 0; ) {
    const next = offset + 2 + (offset + 2 <= bytes.byteLength ? view.getUint16(offset, littleEndian) * 12 : 0);
    if (next + 4 > bytes.byteLength || offsets.length >= mostDirectories) {
      if (offsets.length <= 1) return offsets;
      throw tiffDamaged();
    }
    offsets.push(offset);
    offset = view.getUint32(next, littleEndian);
  }
  return offsets;
}

/** Each frame's tags (no pixels), after checking every tag's values lie within the file. */
function readFrames(bytes: Uint8Array, file: ArrayBuffer, directories: number[]): TiffFrame[] {
  const view = new DataView(file);
  const littleEndian = bytes[0] === 0x49;
  directories.forEach((offset, index) => {
    const entries = view.getUint16(offset, littleEndian);
    for (let entry = offset + 2; entry < offset + 2 + entries * 12; entry += 12) {
      const size = (TIFF_TYPE_BYTES[view.getUint16(entry + 2, littleEndian)] ?? 0) * view.getUint32(entry + 4, littleEndian);
      if (size > 4 && view.getUint32(entry + 8, littleEndian) + size > file.byteLength) throw frameDamaged(index + 1);
    }
  });
  let frames: TiffFrame[];
  try {
    frames = decodeDirectories(file, { parseMN: false, debug: false });
  } catch {
    throw tiffDamaged();
  }
  if (frames.length !== directories.length) throw frameDamaged(frames.length + 1);
  return frames;
}

/** IMAGE_TOO_LARGE, or CORRUPT for a frame utif2 cannot decode, before any frame is decoded. */
function checkFrame(frame: TiffFrame, page: number, limits: ExtractionLimits): void {
  const [width = 0, height = 0] = [tag(frame, 256), tag(frame, 257)];
  if (width * height > limits.maxImagePixels) throw imageTooLarge(width, height, limits.maxImagePixels, page);
  if (width === 0 || height === 0) throw new ExtractionError("CORRUPT", `Page ${page} of the TIFF is damaged and cannot be read (no size in its header)`);
  const compression = tag(frame, 259) ?? 1;
  if (!READABLE_COMPRESSIONS.has(compression)) {
    throw new ExtractionError(
      "CORRUPT",
      `Page ${page} of the TIFF uses a compression that cannot be read (TIFF compression ${compression}); save it as PDF, or as TIFF with LZW, Deflate, PackBits, JPEG or fax compression`,
    );
  }
  if ((tag(frame, 258) ?? 1) * (tag(frame, 277) ?? 1) > MAX_BITS_PER_PIXEL) throw frameDamaged(page);
}

/** The frame as a PNM for tesseract; the decoded samples are dropped before OCR. */
function decodeFrame(file: ArrayBuffer, frame: TiffFrame, page: number): Uint8Array {
  try {
    UTIF.decodeImage(file, frame);
    const rgba = UTIF.toRGBA8(frame);
    Reflect.deleteProperty(frame, "data"); // the raw samples, freed before the PNM copy is made
    const pnm = toPnm({ width: frame.width, height: frame.height, kind: IMAGE_KIND.RGBA_32BPP, data: rgba });
    if (!pnm) throw frameDamaged(page);
    return pnm;
  } catch {
    throw frameDamaged(page);
  } finally {
    Reflect.deleteProperty(frame, "data");
  }
}

function tag(frame: TiffFrame, number: number): number | undefined {
  const value = frame[`t${number}`];
  return Array.isArray(value) && typeof value[0] === "number" ? value[0] : undefined;
}

/** utif2 reads the whole ArrayBuffer from offset 0: hand it exactly the file's bytes. */
function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
}

function tiffDamaged(): ExtractionError {
  return new ExtractionError("CORRUPT", "The TIFF is damaged and cannot be read (its list of pages is broken)");
}

function frameDamaged(page: number): ExtractionError {
  return new ExtractionError("CORRUPT", `Page ${page} of the TIFF is damaged and cannot be read`);
}
