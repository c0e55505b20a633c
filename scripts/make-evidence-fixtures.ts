/**
 * Regenerates the committed evidence files: test/fixtures/evidence/* (the extraction tests' good and
 * hostile documents) and src/cli/demo-files/* (what the demo seed uploads). The committed bytes are
 * what tests and runtime use; this script only documents and reproduces them.
 *
 * Run: node scripts/make-evidence-fixtures.ts [file names to write, e.g. letter-3pages.tif; default all]
 * Needs the devDependency @napi-rs/canvas (to draw the text of the "scanned" images) and a TrueType
 * font (DejaVu Sans where installed, else whatever fonts the canvas finds).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDeflate, crc32, deflateSync } from "node:zlib";
import { createCanvas, GlobalFonts } from "@napi-rs/canvas";
import JSZip from "jszip";
import { PDFDocument, StandardFonts } from "pdf-lib";
import { docxFromParagraphs } from "../src/cli/demo-files.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(ROOT, "test/fixtures/evidence");
const DEMO = join(ROOT, "src/cli/demo-files");
const FIXED_DATE = new Date("2026-01-15T12:00:00Z");
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/** The words the tests look for, per fixture. */
const TEXT_PDF_PAGES = [
  ["Psychoeducational evaluation", "Reason for referral: the student reads slowly and avoids writing tasks.", "Cognitive testing shows average verbal reasoning."],
  ["Reading assessment", "Weaknesses in phonological awareness and decoding of multisyllabic words.", "Oral reading fluency is 48 words correct per minute."],
  ["Recommendations", "Extended time on tests, audiobooks for content reading,", "and daily structured literacy instruction."],
];
const SCANNED_PAGES = [
  ["Classroom observation", "The student copied notes from the", "board slowly and asked a friend", "for help with spelling."],
  ["Recommendations", "Provide a graphic organizer and", "allow speech to text software", "for longer writing assignments."],
];
const LETTER = ["Dear IEP team,", "Our daughter enjoys drawing", "but struggles with spelling.", "Thank you, Maria Lopez"];
/** One page per frame of a multi-page TIFF (a faxed record), each with its own words. */
const FAXED_PAGES = [["Faxed school record", "Attendance is regular."], ["Second page", "Vision screening passed."], ["Third page", "Hearing screening passed."]];
const DEMO_LETTER = [
  "Dear IEP team,", "Thank you for meeting with us.", "At home our child reads every", "night for twenty minutes but gets",
  "frustrated with long words. We", "would like more help with spelling", "and writing. Homework takes over", "an hour most nights.", "", "Sincerely, a parent",
];
const DOCX_SENTENCE = "The speech therapist reports steady progress in articulation of the r sound.";

// ---------------------------------------------------------------------------------------------
// Images: text drawn with a canvas, encoded as 8-bit grayscale PNG (small, and what a scan is)

if (existsSync(FONT)) GlobalFonts.registerFromPath(FONT, "Fixture Sans");

interface GrayImage {
  width: number;
  height: number;
  gray: Uint8Array;
  jpeg: () => Promise<Uint8Array>;
}

/** Black lines of text on white, as 8-bit gray samples (and the canvas's JPEG of them). */
function drawText(lines: string[], width: number, height: number, fontPx: number): GrayImage {
  const canvas = createCanvas(width, height);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, width, height);
  context.fillStyle = "#000";
  context.font = `${fontPx}px "Fixture Sans", "DejaVu Sans", sans-serif`;
  lines.forEach((line, index) => context.fillText(line, fontPx * 1.5, fontPx * (2 + index * 1.6)));
  const rgba = context.getImageData(0, 0, width, height).data;
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4]!;
  return { width, height, gray, jpeg: () => canvas.encode("jpeg", 85) };
}

/** Text drawn as a grayscale PNG. */
function textImage(lines: string[], width: number, height: number, fontPx: number): Uint8Array {
  const { gray } = drawText(lines, width, height, fontPx);
  return pngGray(width, height, 8, (row) => gray.subarray(row * width, (row + 1) * width));
}

/** A baseline little-endian TIFF of 8-bit gray samples, PackBits-compressed, one strip per frame (several frames: a multi-page TIFF). */
function tiffGray(...frames: GrayImage[]): Uint8Array {
  const parts: Buffer[] = [Buffer.from("II*\0\x08\0\0\0", "latin1")];
  let offset = 8;
  frames.forEach(({ width, height, gray }, index) => {
    const strip = Buffer.from(Array.from({ length: height }, (_, y) => packBits(gray.subarray(y * width, (y + 1) * width))).flat());
    // tag, type (3 = SHORT, 4 = LONG), value
    const entries: [number, number, number][] = [
      [256, 3, width], [257, 3, height], [258, 3, 8], [259, 3, 32773], [262, 3, 1], [273, 4, 0], [277, 3, 1], [278, 3, height], [279, 4, strip.length],
    ];
    const directory = Buffer.alloc(2 + entries.length * 12 + 4);
    entries[5]![2] = offset + directory.length;
    directory.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, value], index) => {
      const at = 2 + index * 12;
      directory.writeUInt16LE(tag, at);
      directory.writeUInt16LE(type, at + 2);
      directory.writeUInt32LE(1, at + 4);
      if (type === 3) directory.writeUInt16LE(value, at + 8);
      else directory.writeUInt32LE(value, at + 8);
    });
    offset += directory.length + strip.length;
    const padding = Buffer.alloc(index < frames.length - 1 ? offset % 2 : 0); // directories start on a word boundary
    offset += padding.length;
    if (index < frames.length - 1) directory.writeUInt32LE(offset, directory.length - 4);
    parts.push(directory, strip, padding);
  });
  return Buffer.concat(parts);
}

/** TIFF PackBits: runs of 2–128 equal bytes as (257 − n, byte), other bytes as (n − 1, n literal bytes). */
function packBits(row: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < row.length; ) {
    let run = 1;
    while (i + run < row.length && run < 128 && row[i + run] === row[i]) run++;
    if (run > 1) {
      out.push(257 - run, row[i]!);
      i += run;
      continue;
    }
    const start = i++;
    while (i < row.length && i - start < 128 && row[i] !== row[i + 1]) i++;
    out.push(i - start - 1, ...row.subarray(start, i));
  }
  return out;
}

/** A PNG of `bitDepth`-bit grayscale rows (filter 0), deflated whole. */
function pngGray(width: number, height: number, bitDepth: 1 | 8, row: (y: number) => Uint8Array): Uint8Array {
  const rowBytes = Math.ceil((width * bitDepth) / 8);
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) raw.set(row(y), y * (rowBytes + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([bitDepth, 0, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), pngChunk("IHDR", header), pngChunk("IDAT", deflateSync(raw, { level: 9 })), pngChunk("IEND", Buffer.alloc(0))]);
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real, valid 30000 × 30000 1-bit PNG (all white): ~110 KB that decodes to 900 megapixels. */
function hugePng(): Uint8Array {
  const side = 30_000;
  const white = new Uint8Array(Math.ceil(side / 8)).fill(0xff);
  return pngGray(side, side, 1, () => white);
}

// ---------------------------------------------------------------------------------------------
// PDFs made with pdf-lib

async function newPdf(): Promise<PDFDocument> {
  const pdf = await PDFDocument.create();
  pdf.setCreationDate(FIXED_DATE);
  pdf.setModificationDate(FIXED_DATE);
  pdf.setProducer("iepgen fixtures");
  pdf.setCreator("iepgen fixtures");
  return pdf;
}

/** Three US-letter pages with a text layer. */
async function textPdf(): Promise<Uint8Array> {
  const pdf = await newPdf();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of TEXT_PDF_PAGES) {
    const page = pdf.addPage([612, 792]);
    lines.forEach((line, index) => page.drawText(line, { x: 72, y: 700 - index * 24, size: index === 0 ? 18 : 12, font }));
  }
  return pdf.save({ useObjectStreams: false });
}

/** Pages that are only an image each (no text layer), as a scanner makes them. */
async function scannedPdf(images: Uint8Array[]): Promise<Uint8Array> {
  const pdf = await newPdf();
  for (const png of images) {
    const image = await pdf.embedPng(png);
    const page = pdf.addPage([612, 792]);
    page.drawImage(image, { x: 0, y: 0, width: 612, height: 792 });
  }
  return pdf.save({ useObjectStreams: false });
}

// ---------------------------------------------------------------------------------------------
// Hand-written PDFs (hostile structures pdf-lib will not write)

/** A classic PDF from numbered objects (1-based; strings or bytes), with a correct xref table. */
function rawPdf(objects: (string | Uint8Array)[], trailer: string): Uint8Array {
  const parts: Buffer[] = [Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1")];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    const part = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`), Buffer.from(body as never), Buffer.from("\nendobj\n")]);
    offsets.push(offset);
    offset += part.length;
    parts.push(part);
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`)].join("");
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailer} >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(parts);
}

function stream(dictionary: string, data: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`<< ${dictionary} /Length ${data.length} >>\nstream\n`), data, Buffer.from("\nendstream")]);
}

const HELVETICA = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
const PAGE = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>";
const IMAGE_PAGE = PAGE.replace("/Font << /F1 5 0 R >>", "/XObject << /Im1 5 0 R >>");
const PAINT_IMAGE = stream("", Buffer.from("q 0 0 0 rg 612 0 0 792 0 0 cm /Im1 Do Q"));

/** Catalog, a one-page tree, `page` (object 3), its content stream (4), its font or image (5), then `extra` from 6. */
function onePagePdf(page: string, content: Uint8Array, resource: string | Uint8Array, extra: string[] = [], trailer = ""): Uint8Array {
  return rawPdf(["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, content, resource, ...extra], trailer);
}

/**
 * A page tree that really has 100,000 leaves but is tiny: five levels of nodes whose /Kids name the
 * same child ten times each, down to one page.
 */
function manyPagesPdf(): Uint8Array {
  const levels = 5;
  const objects: string[] = ["<< /Type /Catalog /Pages 2 0 R >>"];
  // Object 2 is the root node; nodes 2, 6, 7, 8, 9 chain down to the page (object 3).
  const nodeIds = [2, 6, 7, 8, 9];
  const node = (level: number) => {
    const child = level === levels - 1 ? 3 : nodeIds[level + 1]!;
    const parent = level === 0 ? "" : `/Parent ${nodeIds[level - 1]} 0 R `;
    return `<< /Type /Pages ${parent}/Kids [${Array(10).fill(`${child} 0 R`).join(" ")}] /Count ${10 ** (levels - level)} >>`;
  };
  objects.push(node(0), PAGE.replace("/Parent 2 0 R", `/Parent ${nodeIds[levels - 1]} 0 R`));
  objects.push(stream("", Buffer.from("BT /F1 12 Tf 72 720 Td (One page, claimed 100000 times) Tj ET")) as never, HELVETICA);
  for (let level = 1; level < levels; level++) objects.push(node(level));
  return rawPdf(objects, "");
}

/** A one-page PDF whose content stream is deflated twice: ~4 KB on disk, 8 GiB of zeros inflated. */
async function bombPdf(): Promise<Uint8Array> {
  const inner = await deflateZeros(8 * 1024 ** 3);
  const outer = deflateSync(inner, { level: 9 });
  return onePagePdf(PAGE, stream("/Filter [/FlateDecode /FlateDecode]", outer), HELVETICA);
}

async function deflateZeros(bytes: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9, memLevel: 9 });
  const chunks: Buffer[] = [];
  deflate.on("data", (chunk: Buffer) => chunks.push(chunk));
  const zeros = Buffer.alloc(16 * 1024 * 1024);
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once("drain", resolve));
  }
  await new Promise((resolve) => deflate.end(resolve));
  return Buffer.concat(chunks);
}

/**
 * Two scanned pages as bilevel scanners write them: page 1 a 1-bit DeviceGray image, page 2 the
 * same kind of bits painted as a stencil mask (/ImageMask true, 0 = ink).
 */
function bilevelPdf(pages: GrayImage[]): Uint8Array {
  const [first, second] = pages.map(({ width, height, gray }) => {
    const rowBytes = Math.ceil(width / 8);
    const bits = Buffer.alloc(rowBytes * height); // 1 = white
    for (let i = 0; i < gray.length; i++) if (gray[i]! > 128) bits[Math.floor(i / width) * rowBytes + ((i % width) >> 3)]! |= 0x80 >> (i % width % 8);
    return { width, height, bits };
  }) as [{ width: number; height: number; bits: Buffer }, { width: number; height: number; bits: Buffer }];
  const page = (contents: number, image: number) =>
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /XObject << /Im1 ${image} 0 R >> >> >>`;
  const image = (extra: string, { width, height }: { width: number; height: number }) =>
    `/Type /XObject /Subtype /Image /Width ${width} /Height ${height} /BitsPerComponent 1 /Filter /FlateDecode ${extra}`;
  return rawPdf(
    [
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>", page(5, 7), page(6, 8), PAINT_IMAGE, PAINT_IMAGE,
      stream(image("/ColorSpace /DeviceGray", first), deflateSync(first.bits)),
      stream(image("/ImageMask true", second), deflateSync(Buffer.from(second.bits.map((byte) => ~byte & 0xff)))),
    ],
    "",
  );
}

/** A scanned page whose image is JPEG 2000 (here a broken one): pdf.js's serverless build cannot decode it. */
function jpeg2000Pdf(): Uint8Array {
  const image = "/Type /XObject /Subtype /Image /Width 850 /Height 1100 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /JPXDecode";
  const jp2Signature = Buffer.from("0000000c6a5020200d0a870a", "hex");
  return onePagePdf(IMAGE_PAGE, PAINT_IMAGE, stream(image, Buffer.concat([jp2Signature, Buffer.alloc(64)])));
}

/** A page painting one image whose dictionary says 30000 × 30000 (its data is tiny: pdf.js must not decode it). */
function hugeImagePdf(): Uint8Array {
  const image = "/Type /XObject /Subtype /Image /Width 30000 /Height 30000 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode";
  return onePagePdf(IMAGE_PAGE, PAINT_IMAGE, stream(image, deflateSync(Buffer.alloc(3750, 0xff))));
}

/**
 * A PDF encrypted with the standard security handler (revision 2, 40-bit RC4) under the user
 * password "secret": no reader can open it without the password.
 */
function encryptedPdf(): Uint8Array {
  const id = createHash("md5").update("iepgen encrypted fixture").digest();
  const permissions = -4; // all permissions
  const owner = rc4(md5(padPassword("owner")).subarray(0, 5), padPassword("secret"));
  const p = Buffer.alloc(4);
  p.writeInt32LE(permissions);
  const fileKey = md5(Buffer.concat([padPassword("secret"), owner, p, id])).subarray(0, 5);
  const user = rc4(fileKey, PASSWORD_PADDING);
  const objectKey = (n: number) => md5(Buffer.concat([fileKey, Buffer.from([n & 0xff, (n >> 8) & 0xff, n >> 16, 0, 0])])).subarray(0, 10);
  const content = rc4(objectKey(4), Buffer.from("BT /F1 12 Tf 72 720 Td (Confidential evaluation) Tj ET"));
  const hex = (bytes: Uint8Array) => `<${Buffer.from(bytes).toString("hex")}>`;
  const encrypt = `<< /Filter /Standard /V 1 /R 2 /O ${hex(owner)} /U ${hex(user)} /P ${permissions} >>`;
  return onePagePdf(PAGE, stream("", content), HELVETICA, [encrypt], `/Encrypt 6 0 R /ID [${hex(id)} ${hex(id)}]`);
}

const PASSWORD_PADDING = Buffer.from("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a", "hex");
const padPassword = (password: string) => Buffer.concat([Buffer.from(password, "latin1"), PASSWORD_PADDING]).subarray(0, 32);
const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest();

function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ZIPs

/** A minimal valid Word document: one paragraph per line (the demo seed builds its documents the same way). */
const docx = docxFromParagraphs;

function zip(files: Record<string, string | Uint8Array>): Promise<Uint8Array> {
  const archive = new JSZip();
  for (const [name, content] of Object.entries(files)) archive.file(name, content, { date: FIXED_DATE, createFolders: false });
  return archive.generateAsync({ type: "uint8array", compression: "DEFLATE" });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(FIXTURES, { recursive: true });
  mkdirSync(DEMO, { recursive: true });
  const scannedPages = SCANNED_PAGES.map((lines) => textImage(lines, 850, 1100, 34));
  const text = await textPdf();
  const files: Record<string, Uint8Array> = {
    [join(FIXTURES, "text.pdf")]: text,
    [join(FIXTURES, "scanned-page.png")]: scannedPages[0]!,
    [join(FIXTURES, "scanned.pdf")]: await scannedPdf(scannedPages),
    [join(FIXTURES, "scanned-bilevel.pdf")]: bilevelPdf(SCANNED_PAGES.map((lines) => drawText(lines, 850, 1100, 34))),
    [join(FIXTURES, "report.docx")]: await docx(["Speech and language report", DOCX_SENTENCE]),
    [join(FIXTURES, "letter.png")]: textImage(LETTER, 900, 420, 44),
    [join(FIXTURES, "letter.jpg")]: await drawText(LETTER, 900, 420, 44).jpeg(),
    [join(FIXTURES, "letter.tif")]: tiffGray(drawText(LETTER, 900, 420, 44)),
    [join(FIXTURES, "letter-3pages.tif")]: tiffGray(...FAXED_PAGES.map((lines) => drawText(lines, 900, 420, 44))),
    [join(FIXTURES, "encrypted.pdf")]: encryptedPdf(),
    [join(FIXTURES, "many-pages.pdf")]: manyPagesPdf(),
    [join(FIXTURES, "bomb.pdf")]: await bombPdf(),
    [join(FIXTURES, "truncated.pdf")]: text.subarray(0, Math.floor(text.length / 2)),
    [join(FIXTURES, "renamed.docx")]: await zip({ "notes.txt": "Shopping list: milk, eggs.\n", "photos/readme.md": "# Holiday photos\n" }),
    [join(FIXTURES, "huge.png")]: hugePng(),
    [join(FIXTURES, "huge-image.pdf")]: hugeImagePdf(),
    [join(FIXTURES, "jpeg2000.pdf")]: jpeg2000Pdf(),
    [join(DEMO, "parent-letter.png")]: textImage(DEMO_LETTER, 1000, 900, 36),
  };
  const only = process.argv.slice(2); // file names to write, e.g. letter-3pages.tif; none = all
  for (const [path, bytes] of Object.entries(files)) {
    if (only.length > 0 && !only.includes(basename(path))) continue;
    writeFileSync(path, bytes);
    console.log(`${path.slice(ROOT.length + 1)}\t${bytes.length} bytes`);
  }
}

await main();
