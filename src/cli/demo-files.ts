/**
 * Files the demo seed uploads as evidence, so a newcomer sees file evidence end to end: a demo
 * student's evaluation typeset as a PDF (with a text layer), their progress note as a Word file,
 * and a scanned parent letter (an image without text, read by OCR; committed in demo-files/, made
 * by scripts/make-evidence-fixtures.ts).
 */
import { readFile } from "node:fs/promises";
import JSZip from "jszip";
import { PDFDocument, StandardFonts, type PDFFont } from "pdf-lib";

const DEMO_FILES = new URL("./demo-files/", import.meta.url);
const PAGE_SIZE: [number, number] = [612, 792];
const MARGIN = 72;
const BODY_SIZE = 11;
const LINE_HEIGHT = 15;
const FIXED_DATE = new Date("2026-01-15T12:00:00Z");

/**
 * A demo document typeset as a PDF with a text layer, as districts export them: a cover page
 * (`title`, a confidentiality line), then `body`'s paragraphs flowing over as many pages as they
 * need, each page numbered. Text must be in the standard fonts' WinAnsi range (all demo data is).
 */
export async function demoDocumentPdf(title: string, body: string): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(title);
  pdf.setCreationDate(FIXED_DATE);
  pdf.setModificationDate(FIXED_DATE);
  pdf.setProducer("iepgen demo");
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const cover = pdf.addPage(PAGE_SIZE);
  cover.drawText(title, { x: MARGIN, y: PAGE_SIZE[1] / 2 + 40, size: 20, font: bold });
  cover.drawText("Confidential student record: share only with the IEP team.", { x: MARGIN, y: PAGE_SIZE[1] / 2, size: BODY_SIZE, font });
  let page = pdf.addPage(PAGE_SIZE);
  let y = PAGE_SIZE[1] - MARGIN;
  for (const line of wrapParagraphs(body, font)) {
    if (y < MARGIN) {
      page = pdf.addPage(PAGE_SIZE);
      y = PAGE_SIZE[1] - MARGIN;
    }
    if (line !== "") page.drawText(line, { x: MARGIN, y, size: BODY_SIZE, font });
    y -= line === "" ? LINE_HEIGHT * 0.6 : LINE_HEIGHT;
  }
  const pages = pdf.getPages();
  pages.forEach((p, index) => p.drawText(`Page ${index + 1} of ${pages.length}`, { x: PAGE_SIZE[0] / 2 - 30, y: MARGIN / 2, size: 9, font }));
  return pdf.save();
}

/** `body`'s paragraphs as lines that fit the page width, with "" between paragraphs. */
function wrapParagraphs(body: string, font: PDFFont): string[] {
  const width = PAGE_SIZE[0] - 2 * MARGIN;
  return body.split(/\n\s*\n|\n/).flatMap((paragraph) => {
    const lines: string[] = [];
    let line = "";
    for (const word of paragraph.trim().split(/\s+/).filter(Boolean)) {
      const candidate = line === "" ? word : `${line} ${word}`;
      if (font.widthOfTextAtSize(candidate, BODY_SIZE) > width && line !== "") {
        lines.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    return line === "" ? [...lines, ""] : [...lines, line, ""];
  });
}

/** A demo document as a Word file (.docx): `title` as its first paragraph, then one paragraph per line of `body`. */
export function demoDocumentDocx(title: string, body: string): Promise<Uint8Array> {
  return docxFromParagraphs([title, ...body.split(/\n+/).map((line) => line.trim()).filter(Boolean)]);
}

/** A minimal valid Word document (the parts Word and mammoth need), one paragraph per string. */
export function docxFromParagraphs(paragraphs: readonly string[]): Promise<Uint8Array> {
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const body = paragraphs.map((text) => `<w:p><w:r><w:t xml:space="preserve">${escape(text)}</w:t></w:r></w:p>`).join("");
  const archive = new JSZip();
  const parts = {
    "[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
    "_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
    "word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  };
  for (const [name, content] of Object.entries(parts)) archive.file(name, content, { date: FIXED_DATE, createFolders: false });
  return archive.generateAsync({ type: "uint8array", compression: "DEFLATE" });
}

/** A photographed parent letter: a PNG with no text layer, so its text comes from OCR. */
export async function demoParentLetterPng(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL("parent-letter.png", DEMO_FILES)));
}
