/**
 * The extraction library with real worker threads and real tesseract: good files of every type,
 * every hostile file failing alone with its reason, budgets, aborts and progress.
 */
import { readFileSync } from "node:fs";
import JSZip from "jszip";
import { PDFDocument } from "pdf-lib";
import { afterAll, describe, expect, it } from "vitest";
import { COUNT_BUDGET_MS, ExtractionError, ExtractionPool, MEDIA_TYPES, sniffMediaType, type ExtractionLimits, type ExtractionProgress } from "../src/extraction/index.ts";
import { createLogger } from "../src/logger.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/evidence/${name}`, import.meta.url)));
const LIMITS: ExtractionLimits = { maxPages: 200, budgetMs: 60_000, maxImagePixels: 50_000_000, maxUncompressedBytes: 32 * 1024 * 1024 };
const logger = createLogger("silent", "stderr");

/** A PDF of `pages` scanned pages (the same page image on each): slow to extract, for budgets and aborts. */
async function longScannedPdf(pages: number): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const image = await pdf.embedPng(fixture("scanned-page.png"));
  for (let i = 0; i < pages; i++) pdf.addPage([612, 792]).drawImage(image, { x: 0, y: 0, width: 612, height: 792 });
  return pdf.save();
}

/** A .docx whose word/document.xml inflates to `bytes` (40 MB of paragraphs deflate to ~100 KB). */
async function docxBomb(bytes: number): Promise<Uint8Array> {
  const zip = await JSZip.loadAsync(fixture("report.docx"));
  const paragraph = "<w:p><w:r><w:t>spelling</w:t></w:r></w:p>";
  zip.file("word/document.xml", `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${paragraph.repeat(Math.ceil(bytes / paragraph.length))}</w:body></w:document>`);
  return zip.generateAsync({ type: "uint8array", compression: "DEFLATE" });
}

async function failure(promise: Promise<unknown>): Promise<ExtractionError> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(ExtractionError);
  return error as ExtractionError;
}

const words = (text: string) => text.toLowerCase().replace(/\s+/g, " ");

describe("extraction", () => {
  const pool = new ExtractionPool({ size: 2, limits: LIMITS, logger });
  afterAll(() => pool.close());

  it("sniffs each supported type from the bytes, and nothing else", async () => {
    expect(await sniffMediaType(fixture("text.pdf"))).toBe(MEDIA_TYPES.PDF);
    expect(await sniffMediaType(fixture("report.docx"))).toBe(MEDIA_TYPES.DOCX);
    expect(await sniffMediaType(fixture("letter.png"))).toBe(MEDIA_TYPES.PNG);
    expect(await sniffMediaType(fixture("letter.jpg"))).toBe(MEDIA_TYPES.JPEG);
    expect(await sniffMediaType(fixture("letter.tif"))).toBe(MEDIA_TYPES.TIFF);
    expect(await sniffMediaType(fixture("letter-3pages.tif"))).toBe(MEDIA_TYPES.TIFF);
    expect(await sniffMediaType(Buffer.from("Teacher note: reads 48 wcpm ✓\r\n\tform feed \f ok"))).toBe(MEDIA_TYPES.TEXT);
    expect(await sniffMediaType(fixture("renamed.docx"))).toBeUndefined(); // a ZIP, not Word
    expect(await sniffMediaType(Buffer.from("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00", "latin1"))).toBeUndefined();
    expect(await sniffMediaType(Buffer.from("MZ\x90\x00\x03\x00\x00\x00\x04\x00", "latin1"))).toBeUndefined();
    expect(await sniffMediaType(Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))).toBeUndefined();
    expect(await sniffMediaType(Buffer.from("text with a NUL\x00 byte"))).toBeUndefined();
    expect(await sniffMediaType(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBeUndefined(); // Latin-1, not UTF-8
    expect(await sniffMediaType(new Uint8Array(0))).toBeUndefined();
  });

  it("reads a text PDF page by page, with progress per page", async () => {
    const progress: ExtractionProgress[] = [];
    const bytes = fixture("text.pdf");
    const result = await pool.extract(bytes, MEDIA_TYPES.PDF, { onProgress: (p) => progress.push(p) });
    expect(result.pageCount).toBe(3);
    expect(result.pages.map((p) => [p.page, p.ocr])).toEqual([[1, false], [2, false], [3, false]]);
    expect(words(result.pages[0]!.text)).toContain("psychoeducational evaluation");
    expect(words(result.pages[1]!.text)).toContain("phonological awareness");
    expect(words(result.pages[1]!.text)).not.toContain("audiobooks");
    expect(words(result.pages[2]!.text)).toContain("audiobooks");
    expect(progress).toEqual([0, 1, 2, 3].map((pagesDone) => ({ pagesDone, pageCount: 3 })));
    expect(bytes.byteLength).toBeGreaterThan(0); // copied to the thread, not detached
    expect(await pool.countPdfPages(bytes)).toBe(3);
  });

  it("OCRs scanned PDF pages (colour, 1-bit, stencil mask) and images of every type", async () => {
    const [scanned, bilevel, png, jpeg, tiff] = await Promise.all([
      pool.extract(fixture("scanned.pdf"), MEDIA_TYPES.PDF),
      pool.extract(fixture("scanned-bilevel.pdf"), MEDIA_TYPES.PDF), // a 1-bit image, then a stencil mask
      pool.extract(fixture("letter.png"), MEDIA_TYPES.PNG),
      pool.extract(fixture("letter.jpg"), MEDIA_TYPES.JPEG),
      pool.extract(fixture("letter.tif"), MEDIA_TYPES.TIFF),
    ]);
    for (const pdf of [scanned, bilevel]) {
      expect(pdf.pageCount).toBe(2);
      expect(pdf.pages.map((p) => [p.page, p.ocr])).toEqual([[1, true], [2, true]]);
      expect(words(pdf.pages[0]!.text)).toContain("classroom observation");
      expect(words(pdf.pages[1]!.text)).toContain("graphic organizer");
    }
    for (const image of [png, jpeg, tiff]) {
      expect(image.pageCount).toBe(1);
      expect(image.pages).toHaveLength(1);
      expect(image.pages[0]).toMatchObject({ page: 1, ocr: true });
      expect(words(image.pages[0]!.text)).toContain("struggles with spelling");
    }
  });

  it("reads every frame of a multi-page TIFF as a page, with progress per frame; a single-frame TIFF stays one page", async () => {
    const progress: ExtractionProgress[] = [];
    const single: ExtractionProgress[] = [];
    const [tiff, letter] = await Promise.all([
      pool.extract(fixture("letter-3pages.tif"), MEDIA_TYPES.TIFF, { onProgress: (p) => progress.push(p) }),
      pool.extract(fixture("letter.tif"), MEDIA_TYPES.TIFF, { onProgress: (p) => single.push(p) }),
    ]);
    expect(tiff.pageCount).toBe(3);
    expect(tiff.pages.map((p) => [p.page, p.ocr])).toEqual([[1, true], [2, true], [3, true]]);
    expect(words(tiff.pages[0]!.text)).toContain("faxed school record");
    expect(words(tiff.pages[1]!.text)).toContain("vision screening");
    expect(words(tiff.pages[1]!.text)).not.toContain("hearing");
    expect(words(tiff.pages[2]!.text)).toContain("hearing screening");
    expect(progress).toEqual([0, 1, 2, 3].map((pagesDone) => ({ pagesDone, pageCount: 3 })));
    expect(letter.pageCount).toBe(1);
    expect(single).toEqual([0, 1].map((pagesDone) => ({ pagesDone, pageCount: 1 })));
  });

  it("refuses a TIFF with more frames than EVIDENCE_MAX_PAGES before reading any frame", async () => {
    const small = new ExtractionPool({ size: 1, limits: { ...LIMITS, maxPages: 2 }, logger });
    try {
      const progress: ExtractionProgress[] = [];
      const error = await failure(small.extract(fixture("letter-3pages.tif"), MEDIA_TYPES.TIFF, { onProgress: (p) => progress.push(p) }));
      expect({ code: error.code, message: error.message }).toEqual({ code: "TOO_MANY_PAGES", message: "The TIFF has 3 pages; at most 2 (EVIDENCE_MAX_PAGES)" });
      expect(progress).toEqual([]); // refused before the first frame's progress (and OCR)
    } finally {
      await small.close();
    }
  });

  it("reads a Word document and plain text as one unpaged text", async () => {
    const docx = await pool.extract(fixture("report.docx"), MEDIA_TYPES.DOCX);
    expect(docx.pageCount).toBeNull();
    expect(docx.pages).toEqual([{ page: null, ocr: false, text: expect.stringContaining("steady progress in articulation") }]);
    const text = await pool.extract(Buffer.from("\ufeffTeacher note:\r\nreads 48 wcpm.\n"), MEDIA_TYPES.TEXT);
    expect(text).toEqual({ pageCount: null, pages: [{ page: null, ocr: false, text: "Teacher note:\nreads 48 wcpm." }] });
  });

  it("fails each hostile file alone with its reason while a good document extracts beside them", async () => {
    const zipBomb = await docxBomb(40 * 1024 * 1024);
    const hostile: [string, Promise<ExtractionError>, ExtractionError["code"], RegExp][] = [
      ["encrypted", failure(pool.extract(fixture("encrypted.pdf"), MEDIA_TYPES.PDF)), "ENCRYPTED", /^The PDF is encrypted \(password-protected\)/],
      ["100,000 pages", failure(pool.extract(fixture("many-pages.pdf"), MEDIA_TYPES.PDF)), "TOO_MANY_PAGES", /^The PDF has 100000 pages; at most 200 \(EVIDENCE_MAX_PAGES\)$/],
      ["flate bomb", failure(pool.extract(fixture("bomb.pdf"), MEDIA_TYPES.PDF)), "TOO_LARGE_UNCOMPRESSED", /more than 32 MB when decompressed \(EVIDENCE_MAX_UNCOMPRESSED_BYTES\)/],
      ["truncated", failure(pool.extract(fixture("truncated.pdf"), MEDIA_TYPES.PDF)), "CORRUPT", /^The PDF is incomplete/],
      ["renamed zip", failure(pool.extract(fixture("renamed.docx"), MEDIA_TYPES.DOCX)), "NOT_DOCX", /^The file is a ZIP archive but not a Word document \(\.docx\)$/],
      ["zip bomb", failure(pool.extract(zipBomb, MEDIA_TYPES.DOCX)), "TOO_LARGE_UNCOMPRESSED", /EVIDENCE_MAX_UNCOMPRESSED_BYTES/],
      ["30000 × 30000 PNG", failure(pool.extract(fixture("huge.png"), MEDIA_TYPES.PNG)), "IMAGE_TOO_LARGE", /^The image is 30000 × 30000 pixels; at most 50 megapixels \(EVIDENCE_MAX_IMAGE_PIXELS\)$/],
      ["30000 × 30000 image in a PDF", failure(pool.extract(fixture("huge-image.pdf"), MEDIA_TYPES.PDF)), "IMAGE_TOO_LARGE", /^Page 1 has an image larger than 50 megapixels/],
      ["JPEG 2000 scan", failure(pool.extract(fixture("jpeg2000.pdf"), MEDIA_TYPES.PDF)), "NO_TEXT", /^No text could be read from the document \(the scanned images on page 1 could not be decoded; JPEG 2000 images are not supported\)$/],
      ["PNG bytes called a PDF", failure(pool.extract(fixture("letter.png"), MEDIA_TYPES.PDF)), "CORRUPT", /PDF/],
      ["empty text", failure(pool.extract(Buffer.from(" \n\t "), MEDIA_TYPES.TEXT)), "NO_TEXT", /^No text could be read from the document$/],
    ];
    const good = pool.extract(fixture("scanned.pdf"), MEDIA_TYPES.PDF);
    for (const [name, promise, code, message] of hostile) {
      const error = await promise;
      expect({ name, code: error.code, message: error.message }).toEqual({ name, code, message: expect.stringMatching(message) });
    }
    expect(words((await good).pages[1]!.text)).toContain("speech to text");
    expect(await pool.countPdfPages(fixture("many-pages.pdf"))).toBe(100_000);
    expect(await pool.countPdfPages(fixture("encrypted.pdf"))).toBeUndefined();
    expect(await pool.countPdfPages(fixture("truncated.pdf"))).toBeUndefined();
  });

  it("aborts running extractions with the signal's reason; a page count does not wait behind them", async () => {
    const controller = new AbortController();
    const reason = new Error("evidence deleted");
    const long = await longScannedPdf(60);
    const progress: number[] = [];
    const outcomes = [1, 2].map(() =>
      pool.extract(long, MEDIA_TYPES.PDF, { signal: controller.signal, onProgress: (p) => progress.push(p.pagesDone) }).then(() => "finished", (error: unknown) => error),
    );
    // Both threads are busy for seconds: the count gives up after its short budget instead of queueing.
    const counting = performance.now();
    expect(await pool.countPdfPages(fixture("text.pdf"))).toBeUndefined();
    expect(performance.now() - counting).toBeLessThan(COUNT_BUDGET_MS + 2_000);
    controller.abort(reason);
    expect(await Promise.all(outcomes)).toEqual([reason, reason]);
    expect(Math.max(...progress)).toBeLessThan(60);
    expect((await pool.extract(fixture("text.pdf"), MEDIA_TYPES.PDF)).pageCount).toBe(3);
  });

  it("ends a document over its budget (TIMED_OUT), replaces the thread and keeps working", async () => {
    const quick = new ExtractionPool({ size: 1, limits: { ...LIMITS, budgetMs: 1_500 }, logger });
    try {
      const progress: ExtractionProgress[] = [];
      const error = await failure(quick.extract(await longScannedPdf(60), MEDIA_TYPES.PDF, { onProgress: (p) => progress.push(p) }));
      expect(error.code).toBe("TIMED_OUT");
      expect(error.message).toMatch(/^Extraction took longer than 1.5 s \(EXTRACTION_BUDGET_MS\)/);
      expect(progress.at(-1)!.pagesDone).toBeLessThan(60);
      const after = await quick.extract(fixture("report.docx"), MEDIA_TYPES.DOCX);
      expect(after.pages[0]!.text).toContain("articulation");
    } finally {
      await quick.close();
    }
  });
});
