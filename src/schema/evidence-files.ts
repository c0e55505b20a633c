/**
 * The file side of evidence in the schema: the `File` upload scalar (GraphQL multipart request
 * spec, parsed by yoga), a document's stage while it is read, and `EvidenceSource`, the original
 * file's metadata with a short-lived signed download link (src/http/download.ts). Everything here
 * resolves from the evidence row's own columns: no query per row.
 */
import { GraphQLError } from "graphql";
import { builder } from "../builder.ts";
import { EvidenceStage, type Evidence } from "../db/evidence.ts";
import type { EvidenceFileLimits } from "../evidence-limits.ts";
import { SUPPORTED_MEDIA_TYPES } from "../extraction/media-types.ts";
import { DOWNLOAD_URL_TTL_MS, evidenceDownloadPath } from "../http/download.ts";
import { signPath } from "../http/signed-url.ts";

/** Whether a value is an uploaded file as yoga hands it over (a web File, or whatwg-node's ponyfill of one). */
function isUploadedFile(value: unknown): value is File {
  return typeof value === "object" && value !== null && typeof (value as File).arrayBuffer === "function" && typeof (value as File).size === "number";
}

builder.scalarType("File", {
  description:
    "An uploaded file, sent as a part of a `multipart/form-data` request (the GraphQL multipart request spec: `operations`, `map`, then the file parts). Input only.",
  serialize: () => {
    throw new Error("File is input only");
  },
  parseValue: (value) => {
    if (!isUploadedFile(value)) {
      throw new GraphQLError("File values are uploads: send the request as multipart/form-data (GraphQL multipart request spec) with the file in a part named in `map`");
    }
    return value;
  },
});

export const EvidenceStageEnum = builder.enumType("EvidenceStage", {
  description: "Where a PENDING file document is: its text being read (page by page), then its chunks being embedded.",
  values: {
    EXTRACTING: { description: "Reading the file's text (PDF text layer, DOCX, or OCR of scanned pages and images); `pagesDone` of `pageCount` so far." },
    EMBEDDING: { description: "The text is read (it is the document's `body` now); its chunks are being embedded." },
  } satisfies Record<EvidenceStage, unknown>,
});

/** A file document's row (its `file_*` columns are set); typed text has no source. */
export type FileEvidence = Evidence & { file_name: string; file_media_type: string; file_byte_size: number; file_sha256: string };

/** The row as its source, or null for typed text. */
export function sourceOf(evidence: Evidence): FileEvidence | null {
  return evidence.file_name === null ? null : (evidence as FileEvidence);
}

export const EvidenceSourceRef = builder.objectRef<FileEvidence>("EvidenceSource").implement({
  description: "The original file of an uploaded evidence document, as stored (the bytes are never changed).",
  fields: (t) => ({
    filename: t.exposeString("file_name", {
      description: "The uploaded file's name, cleaned: no directories, control characters or path separators; at most 255 characters.",
    }),
    mediaType: t.exposeString("file_media_type", {
      description: "The media type sniffed from the bytes when it was uploaded (what the client claimed is ignored): application/pdf, the DOCX type, image/png, image/jpeg, image/tiff or text/plain.",
    }),
    byteSize: t.exposeInt("file_byte_size", { description: "Size of the original file in bytes." }),
    sha256: t.exposeString("file_sha256", { description: "SHA-256 of the original bytes, lower-case hex: the download has exactly these bytes." }),
    downloadUrl: t.string({
      description: `A signed relative URL (/evidence/<id>/download?…) that downloads the original file as an attachment, for the caller only, valid ${DOWNLOAD_URL_TTL_MS / 60_000} minutes. The caller's school and caseload are checked again when it is followed.`,
      resolve: (evidence, _args, ctx) => signPath(evidenceDownloadPath(evidence.id), ctx.viewer.userId, ctx.deps.jwtSecret, DOWNLOAD_URL_TTL_MS),
    }),
  }),
});

const EvidenceUploadLimitsRef = builder.objectRef<EvidenceFileLimits>("EvidenceUploadLimits").implement({
  description: "What `addEvidence` accepts as a file on this server, so a client can check before it sends one (the server checks again).",
  fields: (t) => ({
    maxBytes: t.exposeInt("maxBytes", { description: "The largest file, in bytes (EVIDENCE_MAX_BYTES)." }),
    maxPages: t.exposeInt("maxPages", { description: "The most pages a PDF may have (EVIDENCE_MAX_PAGES)." }),
    mediaTypes: t.stringList({
      description: "The media types read, recognised from the bytes: PDF, DOCX, PNG, JPEG, TIFF and plain text.",
      resolve: () => [...SUPPORTED_MEDIA_TYPES],
    }),
  }),
});

builder.queryField("evidenceUploadLimits", (t) =>
  t.field({
    type: EvidenceUploadLimitsRef,
    description: "The limits on uploaded evidence files on this server.",
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => ctx.deps.limits.evidenceFiles,
  }),
);
