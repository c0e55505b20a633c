/**
 * PDF text per page with pdf.js (through unpdf's serverless build, run in-thread: the extraction
 * thread is already off the event loop). Pages without a text layer are OCRed from their images.
 */
import { getDocumentProxy, getResolvedPDFJS } from "unpdf";
import { pdfStreamsWithin } from "./decompression.ts";
import { ExtractionError, imageTooLarge, megapixels, noText, tooLargeUncompressed } from "./errors.ts";
import type { Ocr } from "./ocr.ts";
import { toPnm, type DecodedImage } from "./raster.ts";
import type { ExtractedPage, ExtractionLimits, ExtractionResult, ProgressListener } from "./types.ts";

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;
type PdfPage = Awaited<ReturnType<PdfDocument["getPage"]>>;

/** A page whose text layer has fewer visible characters than this is treated as scanned. */
const MIN_TEXT_LAYER_CHARS = 16;
/** Images smaller than this on either side (rules, bullets, logos) are not worth OCR. */
const MIN_OCR_SIDE = 32;
/** All deflate streams of one PDF together may inflate to this many times EVIDENCE_MAX_UNCOMPRESSED_BYTES. */
const TOTAL_UNCOMPRESSED_FACTOR = 8;
const DROPPED_IMAGE_WARNING = "Image exceeded maximum allowed size";
const UNDECODABLE_IMAGE_WARNING = "Unable to decode image";

/** What pdf.js only warned about while reading a document's pages. */
interface Warnings {
  undecodablePages: Set<number>;
  jpx: boolean;
}

/** Text per page; OCR for pages without a text layer. */
export async function extractPdf(bytes: Uint8Array, limits: ExtractionLimits, ocr: Ocr, onProgress: ProgressListener): Promise<ExtractionResult> {
  const pdf = await openPdf(bytes, limits);
  try {
    const pageCount = pdf.numPages;
    if (pageCount > limits.maxPages) {
      throw new ExtractionError("TOO_MANY_PAGES", `The PDF has ${pageCount} pages; at most ${limits.maxPages} (EVIDENCE_MAX_PAGES)`);
    }
    onProgress({ pagesDone: 0, pageCount });
    const pages: ExtractedPage[] = [];
    const warnings: Warnings = { undecodablePages: new Set(), jpx: false };
    for (let number = 1; number <= pageCount; number++) {
      pages.push(await readPage(pdf, number, limits, ocr, warnings));
      onProgress({ pagesDone: number, pageCount });
    }
    if (pages.every((page) => page.text.trim() === "")) throw noText(undecodableDetail(warnings));
    return { pageCount, pages };
  } finally {
    await pdf.destroy().catch(() => {});
  }
}

/** The page count alone (the upload-time EVIDENCE_MAX_PAGES check). */
export async function countPdfPages(bytes: Uint8Array, limits: ExtractionLimits): Promise<number> {
  const pdf = await openPdf(bytes, limits);
  try {
    return pdf.numPages;
  } finally {
    await pdf.destroy().catch(() => {});
  }
}

/** Refuses truncated files and decompression bombs, then parses the document (ENCRYPTED / CORRUPT). */
async function openPdf(bytes: Uint8Array, limits: ExtractionLimits): Promise<PdfDocument> {
  // Acrobat's own rule: %%EOF within the last 1024 bytes. pdf.js would instead rebuild a cut-off
  // file from whatever objects survived and silently return some of its pages.
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(-1024).includes("%%EOF")) {
    throw new ExtractionError("CORRUPT", "The PDF is incomplete (it ends before its end-of-file marker); upload the complete file");
  }
  if (!(await pdfStreamsWithin(bytes, limits.maxUncompressedBytes, limits.maxUncompressedBytes * TOTAL_UNCOMPRESSED_FACTOR))) {
    throw tooLargeUncompressed(limits.maxUncompressedBytes);
  }
  try {
    return await getDocumentProxy(bytes, {
      // Images over the limit are not decoded at all; readPage reports them (see DROPPED_IMAGE_WARNING).
      maxImageSize: limits.maxImagePixels,
      isOffscreenCanvasSupported: false,
      isImageDecoderSupported: false,
      stopAtErrors: false,
      verbosity: 1,
    } as Parameters<typeof getDocumentProxy>[1]);
  } catch (error) {
    throw openFailure(error);
  }
}

function openFailure(error: unknown): ExtractionError {
  const name = (error as { name?: string } | null)?.name;
  if (name === "PasswordException") return new ExtractionError("ENCRYPTED", "The PDF is encrypted (password-protected); upload an unprotected copy");
  return new ExtractionError("CORRUPT", "The PDF is damaged and cannot be read");
}

function undecodableDetail({ undecodablePages, jpx }: Warnings): string | undefined {
  if (undecodablePages.size === 0) return undefined;
  const pages = [...undecodablePages];
  const which = pages.length === 1 ? `page ${pages[0]}` : `pages ${pages.slice(0, 10).join(", ")}${pages.length > 10 ? " …" : ""}`;
  return `the scanned images on ${which} could not be decoded${jpx ? "; JPEG 2000 images are not supported" : ""}`;
}

async function readPage(pdf: PdfDocument, number: number, limits: ExtractionLimits, ocr: Ocr, warnings: Warnings): Promise<ExtractedPage> {
  try {
    const page = await pdf.getPage(number);
    try {
      const content = await page.getTextContent();
      const text = content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join("").trim();
      if (text.replace(/\s/g, "").length >= MIN_TEXT_LAYER_CHARS) return { page: number, text, ocr: false };
      const read = await ocrPageImages(page, number, limits, ocr, warnings);
      return read.trim() === "" ? { page: number, text, ocr: false } : { page: number, text: read, ocr: true };
    } finally {
      page.cleanup();
    }
  } catch (error) {
    if (error instanceof ExtractionError) throw error;
    throw new ExtractionError("CORRUPT", `Page ${number} of the PDF is damaged and cannot be read`);
  }
}

/** OCR of every image painted on the page, in drawing order. */
async function ocrPageImages(page: PdfPage, number: number, limits: ExtractionLimits, ocr: Ocr, warnings: Warnings): Promise<string> {
  const { OPS } = await getResolvedPDFJS();
  const operators = await withImageWarnings(() => page.getOperatorList(), number, limits, warnings);
  const texts: string[] = [];
  for (let i = 0; i < operators.fnArray.length; i++) {
    const op = operators.fnArray[i];
    const args = operators.argsArray[i] as unknown[];
    let image: DecodedImage | undefined;
    if (op === OPS.paintImageXObject) image = await pageObject(page, args[0] as string);
    else if (op === OPS.paintInlineImageXObject) image = args[0] as DecodedImage;
    else if (op === OPS.paintImageMaskXObject) image = await maskImage(page, args[0] as MaskArgument);
    if (!image?.data || image.width < MIN_OCR_SIDE || image.height < MIN_OCR_SIDE) continue;
    if (image.width * image.height > limits.maxImagePixels) throw imageTooLarge(image.width, image.height, limits.maxImagePixels, number);
    const pnm = toPnm(image, op === OPS.paintImageMaskXObject);
    if (pnm) texts.push(await ocr.recognize(pnm));
  }
  return texts.filter((text) => text !== "").join("\n\n");
}

/** A stencil mask (1-bit scans are often painted this way); its bits live in page.objs under `data`. */
interface MaskArgument {
  data: string | Uint8Array;
  width: number;
  height: number;
}

async function maskImage(page: PdfPage, mask: MaskArgument): Promise<DecodedImage | undefined> {
  if (typeof mask.data !== "string") return { width: mask.width, height: mask.height, data: mask.data };
  const stored = await pageObject(page, mask.data);
  return stored?.data ? { width: mask.width, height: mask.height, data: stored.data } : undefined;
}

/** A decoded image by its key; page objects are resolved asynchronously after the operator list. */
function pageObject(page: PdfPage, key: string): Promise<DecodedImage | undefined> {
  const objects = key.startsWith("g_") ? page.commonObjs : page.objs;
  return new Promise((resolve) => objects.get(key, (value: unknown) => resolve((value ?? undefined) as DecodedImage | undefined)));
}

/**
 * pdf.js drops an image over `maxImageSize`, or one it cannot decode (JPEG 2000: the serverless
 * build has no OpenJPEG), with only a console warning. A dropped image becomes IMAGE_TOO_LARGE for
 * the page instead of a page without text; an undecodable one is noted for NO_TEXT's message.
 * Other pdf.js warnings (it repairs many small defects) are dropped here rather than printed.
 */
async function withImageWarnings<T>(operation: () => Promise<T>, number: number, limits: ExtractionLimits, warnings: Warnings): Promise<T> {
  const original = console.warn;
  let dropped = false;
  console.warn = (...args: unknown[]) => {
    const message = String(args[0]);
    if (message.includes(DROPPED_IMAGE_WARNING)) dropped = true;
    if (message.includes(UNDECODABLE_IMAGE_WARNING)) warnings.undecodablePages.add(number);
    if (message.includes("JpxError")) warnings.jpx = true;
  };
  try {
    const result = await operation();
    if (dropped) {
      throw new ExtractionError("IMAGE_TOO_LARGE", `Page ${number} has an image larger than ${megapixels(limits.maxImagePixels)} (EVIDENCE_MAX_IMAGE_PIXELS)`);
    }
    return result;
  } finally {
    console.warn = original;
  }
}
