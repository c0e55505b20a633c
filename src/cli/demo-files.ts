/**
 * Files the demo seed uploads as evidence, so a newcomer sees file evidence end to end: a generated
 * psychoeducational evaluation (a PDF with a text layer, made per student), a Word progress report
 * and a scanned parent letter (an image without text, read by OCR). The DOCX and PNG are committed
 * in demo-files/ (made by scripts/make-evidence-fixtures.ts).
 */
import { readFile } from "node:fs/promises";
import { PDFDocument, StandardFonts, type PDFFont, type PDFPage } from "pdf-lib";

const DEMO_FILES = new URL("./demo-files/", import.meta.url);
const PAGE_SIZE: [number, number] = [612, 792];
const MARGIN = 72;
const BODY_SIZE = 11;
const LINE_HEIGHT = 15;
const FIXED_DATE = new Date("2026-01-15T12:00:00Z");

export interface DemoStudentName {
  firstName: string;
  lastName: string;
}

/** Three pages of a plausible psychoeducational evaluation of `student`, with a text layer. */
export async function demoEvaluationPdf(student: DemoStudentName): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`Psychoeducational evaluation: ${student.firstName} ${student.lastName}`);
  pdf.setCreationDate(FIXED_DATE);
  pdf.setModificationDate(FIXED_DATE);
  pdf.setProducer("iepgen demo");
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  evaluationPages(student).forEach((sections, index, pages) => {
    const page = pdf.addPage(PAGE_SIZE);
    let y = PAGE_SIZE[1] - MARGIN;
    for (const { heading, paragraphs } of sections) {
      page.drawText(heading, { x: MARGIN, y, size: 14, font: bold });
      y -= LINE_HEIGHT * 1.6;
      for (const paragraph of paragraphs) y = drawParagraph(page, paragraph, y, font) - LINE_HEIGHT * 0.6;
      y -= LINE_HEIGHT * 0.6;
    }
    page.drawText(`Page ${index + 1} of ${pages.length}`, { x: PAGE_SIZE[0] / 2 - 30, y: MARGIN / 2, size: 9, font });
  });
  return pdf.save();
}

/** A Word progress report (second quarter) on reading, writing and math goals. */
export async function demoProgressReportDocx(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL("progress-report.docx", DEMO_FILES)));
}

/** A photographed parent letter: a PNG with no text layer, so its text comes from OCR. */
export async function demoParentLetterPng(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL("parent-letter.png", DEMO_FILES)));
}

/** Draws `text` wrapped to the page width from `y` down; returns the y below it. */
function drawParagraph(page: PDFPage, text: string, y: number, font: PDFFont): number {
  const width = PAGE_SIZE[0] - 2 * MARGIN;
  let line = "";
  for (const word of text.split(/\s+/)) {
    const candidate = line === "" ? word : `${line} ${word}`;
    if (font.widthOfTextAtSize(candidate, BODY_SIZE) > width && line !== "") {
      page.drawText(line, { x: MARGIN, y, size: BODY_SIZE, font });
      y -= LINE_HEIGHT;
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== "") page.drawText(line, { x: MARGIN, y, size: BODY_SIZE, font });
  return y - LINE_HEIGHT;
}

interface Section {
  heading: string;
  paragraphs: string[];
}

function evaluationPages({ firstName, lastName }: DemoStudentName): Section[][] {
  const name = `${firstName} ${lastName}`;
  return [
    [
      { heading: "Psychoeducational Evaluation Report", paragraphs: [`Student: ${name}`, "Evaluator: school psychologist, district evaluation team", "Dates of testing: three sessions in January"] },
      {
        heading: "Reason for referral",
        paragraphs: [
          `${firstName} was referred by the classroom teacher and parents because of slow, effortful reading, difficulty spelling common words and avoidance of written assignments, despite two cycles of small-group reading intervention.`,
        ],
      },
      {
        heading: "Background and observations",
        paragraphs: [
          `${firstName} is described as curious, kind to peers and strong in oral discussion. In class observations ${firstName} followed directions, participated in science talks and needed frequent prompts to begin writing tasks. Vision and hearing screenings were passed.`,
        ],
      },
    ],
    [
      {
        heading: "Cognitive and academic results",
        paragraphs: [
          `On the WISC-V, ${firstName}'s verbal comprehension (standard score 108) and fluid reasoning (104) were in the average range; working memory (88) and processing speed (84) were low average.`,
          `On the WIAT-4, word reading (79), pseudoword decoding (76) and spelling (77) were below average, while listening comprehension (106) was average. Oral reading fluency was 52 words correct per minute on a grade-level passage, well below the benchmark of 90.`,
          `Phonological processing (CTOPP-2) showed weaknesses in phonological awareness (82) and rapid naming (80). Math calculation (98) and math problem solving (95) were within the average range.`,
        ],
      },
    ],
    [
      {
        heading: "Summary",
        paragraphs: [
          `${name}'s profile of average reasoning and listening comprehension with weak decoding, spelling and reading fluency, together with weak phonological processing, is consistent with a specific learning disability in basic reading skills and reading fluency (dyslexia).`,
        ],
      },
      {
        heading: "Recommendations",
        paragraphs: [
          "Daily explicit, systematic structured literacy instruction in phonics and decoding, in a small group.",
          "Repeated reading practice with feedback to build fluency, monitored weekly.",
          "Access to audiobooks and text-to-speech for grade-level content, and extended time (1.5x) on tests.",
          "Speech-to-text or a scribe for longer written responses, and a spelling word bank.",
        ],
      },
    ],
  ];
}
