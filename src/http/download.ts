/**
 * The original file of an uploaded evidence document, `GET /evidence/<id>/download`. Authorised
 * like the print view (src/http/print.ts): `Authorization: Bearer <token>`, or the signed query of
 * `EvidenceSource.downloadUrl` (src/http/signed-url.ts, 5 minutes). The caller must be able to
 * read the document's student (same school; a CASE_MANAGER or TEACHER only their caseload);
 * otherwise the answer is 404, as for a document that does not exist. The bytes are served exactly
 * as stored, as an attachment with the sniffed type, never sniffed or rendered by the browser, and
 * every download is audited (EXPORTED).
 */
import type { Plugin } from "graphql-yoga";
import type { Viewer } from "../auth.ts";
import type { AppDeps } from "../context.ts";
import { findEvidenceFile, type EvidenceFile } from "../db/evidence.ts";
import { asSchool } from "../db/tenant.ts";
import { extensionFor, SUPPORTED_MEDIA_TYPES, type EvidenceMediaType } from "../extraction/media-types.ts";
import { isUuid } from "../ids.ts";
import { loadStudentAccess, mayAccessStudents } from "../services/assignments.ts";
import { audit } from "../services/audit.ts";
import { linkViewer, type Authenticate } from "./link-viewer.ts";
import { currentRequestId } from "./request-id.ts";

const DOWNLOAD_PATH = /^\/evidence\/([^/]+)\/download$/;
/** How long `EvidenceSource.downloadUrl` stays valid. */
export const DOWNLOAD_URL_TTL_MS = 5 * 60 * 1000;
/** The download route of a document (what `downloadUrl` signs). */
export const evidenceDownloadPath = (evidenceId: string): string => `/evidence/${evidenceId}/download`;

/** Nothing in a download may run or load anything, even if a browser were to render it. */
const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; sandbox",
  "referrer-policy": "no-referrer",
};


const LINK_MESSAGES = {
  expired: "This download link has expired: ask for a new one (EvidenceSource.downloadUrl)",
  invalid: "Invalid download link signature",
};

/** Serves downloads before GraphQL handles the request; `authenticate` is the API's bearer check (src/yoga.ts). */
export function downloadPlugin(deps: AppDeps, authenticate: Authenticate): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      const match = DOWNLOAD_PATH.exec(url.pathname);
      if (!match) return;
      const head = request.method === "HEAD";
      const reply = (status: number, body: string, extra: Record<string, string> = {}) =>
        endResponse(new fetchAPI.Response(head ? null : body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS, ...extra } }));
      if (request.method !== "GET" && !head) return reply(405, "Method not allowed: GET the download", { allow: "GET, HEAD" });
      const viewer = await linkViewer(deps, request, url, authenticate, LINK_MESSAGES);
      if (typeof viewer === "string") return reply(401, viewer, { "www-authenticate": "Bearer" });
      const file = await asSchool(viewer.schoolId, () => readableFile(deps, viewer, match[1]!, !head));
      if (!file) return reply(404, "Evidence file not found");
      // A view of pg's Buffer, not a copy (pg's buffers are plain ArrayBuffers, never shared).
      const bytes = new Uint8Array(file.content.buffer as ArrayBuffer, file.content.byteOffset, file.content.byteLength);
      endResponse(new fetchAPI.Response(head ? null : bytes, { status: 200, headers: { ...downloadHeaders(file), ...SECURITY_HEADERS } }));
    },
  };
}

/**
 * The document's file when the viewer may read its student (audited as EXPORTED when `exported`:
 * a GET, not a HEAD); undefined when it is not a file document of the viewer's school, or its
 * student is off their caseload (indistinguishable on purpose).
 */
async function readableFile(deps: AppDeps, viewer: Viewer, id: string, exported: boolean): Promise<EvidenceFile | undefined> {
  const file = isUuid(id) ? await findEvidenceFile(deps.pool, viewer.schoolId, id) : undefined;
  if (!file) return undefined;
  if (!(await mayAccessStudents(deps.pool, viewer, await loadStudentAccess(deps.pool, viewer), [file.studentId]))) return undefined;
  const requestId = currentRequestId();
  if (exported) {
    await audit(deps.pool, viewer, requestId ? deps.logger.child({ requestId }) : deps.logger, "EXPORTED", "EVIDENCE", [{ id: file.evidenceId, studentId: file.studentId }]);
  }
  return file;
}

/** Type, length and an attachment disposition whose name carries the extension of the sniffed type. */
function downloadHeaders(file: Pick<EvidenceFile, "filename" | "mediaType" | "content">): Record<string, string> {
  const type = file.mediaType as EvidenceMediaType;
  return {
    "content-type": type === "text/plain" ? "text/plain; charset=utf-8" : type,
    "content-length": String(file.content.byteLength),
    "content-disposition": contentDisposition(downloadFilename(file.filename, type)),
  };
}

/** Other names for a type's extension that are left alone ("scan.jpeg", "notes.md"). */
const EXTENSION_ALIASES: Partial<Record<EvidenceMediaType, readonly string[]>> = {
  "image/jpeg": [".jpg", ".jpeg"],
  "image/tiff": [".tif", ".tiff"],
  "text/plain": [".txt", ".text", ".md", ".csv"],
};

/**
 * The name a download is saved under: the stored name when its extension fits the sniffed type;
 * otherwise the type's own extension replaces a supported type's ("scan.pdf" that is a PNG →
 * "scan.png") or is added ("letter.html" that is plain text → "letter.html.txt"), so the file
 * opens as what it is.
 */
export function downloadFilename(filename: string, type: EvidenceMediaType): string {
  const dot = filename.lastIndexOf(".");
  const extension = dot > 0 ? filename.slice(dot).toLowerCase() : "";
  const fitting = EXTENSION_ALIASES[type] ?? [extensionFor(type)];
  if (fitting.includes(extension)) return filename;
  const known = SUPPORTED_MEDIA_TYPES.flatMap((t) => EXTENSION_ALIASES[t] ?? [extensionFor(t)]);
  const stem = known.includes(extension) ? filename.slice(0, dot) : filename;
  return `${stem}${extensionFor(type)}`;
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / RFC 8187). */
export function contentDisposition(filename: string): string {
  const ascii = filename.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
