import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import { EvidenceKind, type Evidence } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import { findStudent } from "../db/students.ts";
import { NotFoundError, parseInput, ValidationError, type FieldError } from "../errors.ts";
import { DEFAULT_EVIDENCE_FILE_LIMITS, type EvidenceFileLimits } from "../evidence-limits.ts";
import { extensionFor, MEDIA_TYPES, sniffMediaType, type EvidenceMediaType } from "../extraction/media-types.ts";
import * as lifecycle from "../lifecycle/evidence.ts";
import type { Logger } from "../logger.ts";
import { ingestEvidenceTask } from "../../tasks/ingest_evidence.ts";

/** What addEvidence accepts besides the file; `maxChars` is EVIDENCE_MAX_CHARS (default 200,000 characters). */
export function addEvidenceInputSchema(maxChars: number) {
  return z.object({
    studentId: z.uuid("must be a student id"),
    kind: EvidenceKind,
    title: z.string().trim().min(1, "must not be empty").max(300, "must be at most 300 characters"),
    body: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(maxChars, `must be at most ${maxChars} characters (EVIDENCE_MAX_CHARS); split longer documents`)
      .nullish(),
  });
}
/** What addEvidence accepts: the schema's fields, and `file` (an UploadedFile) instead of `body`. */
export type AddEvidenceInput = z.input<ReturnType<typeof addEvidenceInputSchema>> & { file?: UploadedFile | null };

/** An uploaded file as yoga (or a script) hands it over: a web `File`, or anything shaped like one. */
export interface UploadedFile {
  readonly name: string;
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What accepting a file needs: its limits, and a quick PDF page count (undefined: cannot tell quickly, the ingestion decides). */
export interface FileIntake extends Pick<EvidenceFileLimits, "maxBytes" | "maxPages"> {
  countPdfPages?: (bytes: Uint8Array) => Promise<number | undefined>;
}

export interface AddEvidenceOptions {
  maxChars: number;
  log: Logger;
  /** Upload limits and the page counter (the API passes its deps'); default DEFAULT_EVIDENCE_FILE_LIMITS without a page count. */
  files?: FileIntake;
}

/** The supported types, named for people (the refusal of any other file lists them). */
const SUPPORTED_FILE_TYPES_TEXT = "a PDF, Word (.docx), PNG, JPEG, TIFF or plain-text file";
/** The longest stored filename, in characters (the evidence.file_name check). */
const MAX_FILENAME_CHARS = 255;

/**
 * Stores an evidence document as PENDING and enqueues its ingestion job on the same client in the
 * same transaction: both exist, or (on any error) neither. The document is typed text (`body`) or
 * an uploaded file (`file`), exactly one of them. A file is read, checked and sniffed before the
 * transaction opens (ValidationError, nothing written, when it is empty, too large, of an
 * unsupported type, or a PDF with too many pages); its bytes are stored with the row.
 */
export async function addEvidence(pool: pg.Pool, viewer: Viewer, input: unknown, options: AddEvidenceOptions): Promise<Evidence> {
  const { file, ...fields } = (typeof input === "object" && input !== null ? input : {}) as { file?: unknown };
  const valid = parseInput(addEvidenceInputSchema(options.maxChars), fields);
  const body = valid.body ?? undefined;
  const uploaded = uploadedFileOf(file);
  if ((body === undefined) === (uploaded === undefined)) throw exactlyOneOfBodyOrFile(body !== undefined);
  const upload = uploaded ? await acceptFile(uploaded, options.files ?? DEFAULT_EVIDENCE_FILE_LIMITS) : undefined;
  return withTransaction(pool, async (client) => {
    const student = await findStudent(client, viewer.schoolId, valid.studentId);
    if (!student) throw new NotFoundError("Student", valid.studentId);
    const evidence = await lifecycle.queue(
      { db: client, log: options.log },
      { studentId: valid.studentId, kind: valid.kind, title: valid.title, body, file: upload, schoolId: viewer.schoolId, createdBy: viewer.userId },
    );
    await ingestEvidenceTask.enqueue(client, { evidenceId: evidence.id });
    return evidence;
  });
}

/** The upload, or undefined without one; a ValidationError for a value that is not a file (a script's mistake: GraphQL's File scalar checks this). */
function uploadedFileOf(value: unknown): UploadedFile | undefined {
  if (value === null || value === undefined) return undefined;
  const file = value as UploadedFile;
  if (typeof value === "object" && typeof file.arrayBuffer === "function" && typeof file.size === "number" && typeof file.name === "string") return file;
  throw fileRefused("file must be an uploaded file");
}

function exactlyOneOfBodyOrFile(both: boolean): ValidationError {
  const message = both
    ? "give either body (typed text) or file (an upload), not both"
    : "give either body (typed text) or file (an upload)";
  return ValidationError.fromFieldErrors([{ path: ["body"], message }, { path: ["file"], message }]);
}

/** A file refused at upload: the whole message names the problem; the field error points at `file`. */
function fileRefused(message: string): ValidationError {
  const fieldErrors: FieldError[] = [{ path: ["file"], message }];
  return new ValidationError(message, fieldErrors);
}

/** The file's bytes, sniffed type and cleaned name, or a ValidationError saying why it cannot be evidence. */
async function acceptFile(file: UploadedFile, intake: FileIntake): Promise<{ filename: string; mediaType: EvidenceMediaType; content: Uint8Array }> {
  if (file.size > intake.maxBytes) throw tooLarge(file.size, intake.maxBytes);
  const content = new Uint8Array(await file.arrayBuffer());
  if (content.byteLength === 0) throw fileRefused("The file is empty; upload a document with some content");
  if (content.byteLength > intake.maxBytes) throw tooLarge(content.byteLength, intake.maxBytes);
  const mediaType = await sniffMediaType(content);
  if (!mediaType || (mediaType === MEDIA_TYPES.TEXT && isMarkup(content))) throw unsupported(file.name, content);
  if (mediaType === MEDIA_TYPES.PDF && intake.countPdfPages) {
    const pages = await intake.countPdfPages(content);
    if (pages !== undefined && pages > intake.maxPages) {
      throw fileRefused(`The PDF has ${pages} pages; at most ${intake.maxPages} (EVIDENCE_MAX_PAGES)`);
    }
  }
  return { filename: cleanFilename(file.name, mediaType), mediaType, content };
}

/** The refusal of an unsupported file, saying what it is where that helps (a ZIP renamed .docx). */
function unsupported(name: string, content: Uint8Array): ValidationError {
  const isZip = content[0] === 0x50 && content[1] === 0x4b && content[2] === 0x03 && content[3] === 0x04;
  const what = isZip ? "is a ZIP archive, not a Word document (.docx)" : "is not a supported file type";
  return fileRefused(`${describeName(name)} ${what}; upload ${SUPPORTED_FILE_TYPES_TEXT}`);
}

/**
 * Whether "plain text" is really a markup document (HTML, SVG, XML: it opens with a tag, a
 * doctype, a comment or an XML declaration). Such a file is refused: its text is not evidence,
 * and it must never be stored where a browser could be talked into rendering it.
 */
function isMarkup(content: Uint8Array): boolean {
  const start = new TextDecoder().decode(content.subarray(0, 1024)).replace(/^\uFEFF/, "").trimStart();
  return /^<(?:!doctype|\?xml|!--|[a-z][\w:-]*[\s/>])/i.test(start);
}

function tooLarge(bytes: number, maxBytes: number): ValidationError {
  return fileRefused(`The file is ${formatBytes(bytes, "up")}; at most ${formatBytes(maxBytes, "down")} (EVIDENCE_MAX_BYTES)`);
}

/** "25 MB", "25.1 MB", "64 KB", "900 bytes" (binary units, as EVIDENCE_MAX_BYTES's default 25 MB = 26,214,400 bytes). */
export function formatBytes(bytes: number, round: "up" | "down"): string {
  const [unit, size] = bytes >= 1024 * 1024 ? ["MB", 1024 * 1024] as const : bytes >= 1024 ? ["KB", 1024] as const : ["bytes", 1] as const;
  const tenths = (round === "up" ? Math.ceil : Math.floor)((bytes / size) * 10) / 10;
  return `${tenths} ${unit}`;
}

/** How a refusal names the file: quoted and cleaned when it has a name. */
function describeName(name: string): string {
  const cleaned = stripUnsafe(baseName(name)).slice(0, 80);
  return cleaned ? `"${cleaned}"` : "The file";
}

/**
 * The name stored and shown for an upload: its last path segment only (either slash), without
 * control or bidirectional-override characters, trimmed, at most 255 characters (the extension
 * kept); "document" plus the sniffed type's extension when nothing is left.
 */
export function cleanFilename(name: string, mediaType: EvidenceMediaType): string {
  const cleaned = stripUnsafe(baseName(name)).trim();
  if (cleaned === "" || cleaned === "." || cleaned === "..") return `document${extensionFor(mediaType)}`;
  const chars = [...cleaned];
  if (chars.length <= MAX_FILENAME_CHARS) return cleaned;
  const dot = cleaned.lastIndexOf(".");
  const extension = dot > 0 && cleaned.length - dot <= 16 ? [...cleaned.slice(dot)] : [];
  return [...chars.slice(0, MAX_FILENAME_CHARS - extension.length), ...extension].join("").trim();
}

function baseName(name: string): string {
  return name.split(/[/\\]/).at(-1) ?? "";
}

/** Control characters (C0, DEL, C1), bidirectional overrides/isolates and unpaired surrogates removed. */
function stripUnsafe(text: string): string {
  return text.toWellFormed().replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/gu, "");
}
