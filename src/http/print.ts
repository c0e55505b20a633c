/**
 * The print view of an IEP, `GET /ieps/<id>/print`: one self-contained HTML page with a print
 * stylesheet that a browser prints to PDF. Sections follow the IEP's template (the §300.320 order
 * by default); citations are numbered footnotes with the document's title and an excerpt of the
 * cited text. Authorised by `Authorization: Bearer <token>` or by the signed query of
 * `Iep.printUrl` (src/http/signed-url.ts), with the API's checks: the caller's school, and the
 * caseload for non-admins. Every export is audited (EXPORTED). Everything from content is escaped;
 * the page loads nothing and runs no script (its CSP allows only its own stylesheet).
 */
import { createHash } from "node:crypto";
import type { Plugin } from "graphql-yoga";
import type { Viewer } from "../auth.ts";
import type { AppDeps } from "../context.ts";
import { findIep, type IepRecord } from "../db/ieps.ts";
import { findEvidenceByIds, type Evidence, type EvidenceChunk } from "../db/evidence.ts";
import { findUsersByIds } from "../db/schools.ts";
import { findStudent, type Student } from "../db/students.ts";
import { asSchool } from "../db/tenant.ts";
import { isUuid } from "../ids.ts";
import { citedChunkIds, SECTION_SCHEMAS } from "../iep/content.ts";
import type { LaidOutSection } from "../iep/templates.ts";
import { citedChunkLoader, layoutOf } from "../schema/ieps.ts";
import { loadStudentAccess, mayAccessStudents } from "../services/assignments.ts";
import { audit } from "../services/audit.ts";
import { linkViewer, type Authenticate } from "./link-viewer.ts";
import { currentRequestId } from "./request-id.ts";

const PRINT_PATH = /^\/ieps\/([^/]+)\/print$/;
const EXCERPT_CHARS = 400;

const CSS = `body{font:11pt/1.45 Georgia,"Times New Roman",serif;color:#111;max-width:48rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;border-bottom:1px solid #444;margin:1.6rem 0 .6rem;page-break-after:avoid}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}dl.meta dt{font-weight:bold}dl.meta dd{margin:0}
dl.fields{margin:.3rem 0}dl.fields>dt{font-weight:bold;margin-top:.4rem}dl.fields>dd{margin:0 0 0 1rem}
.status{display:inline-block;border:2px solid #111;padding:.1rem .5rem;font-weight:bold;letter-spacing:.05em}
.notice{border:1px solid #999;padding:.4rem .6rem;background:#f4f4f4}sup a{text-decoration:none}
ol.notes{font-size:9.5pt}ol.notes li{margin-bottom:.4rem}.missing{color:#a00;font-weight:bold}.none{color:#555;font-style:italic}
section{page-break-inside:auto}li{page-break-inside:avoid}
@page{size:letter;margin:2cm 1.8cm}@media print{body{margin:0;max-width:none}a{color:inherit}.notice{background:none}}`;
const CSP = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(CSS).digest("base64")}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
const SECURITY_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff", "content-security-policy": CSP, "referrer-policy": "no-referrer" };

const LINK_MESSAGES = {
  expired: "This print link has expired: ask for a new one (Iep.printUrl)",
  invalid: "Invalid print link signature",
};

/** Serves the print view before GraphQL handles the request; `authenticate` is the API's bearer check (src/yoga.ts). */
export function printPlugin(deps: AppDeps, authenticate: Authenticate): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      const match = PRINT_PATH.exec(url.pathname);
      if (!match) return;
      const reply = (status: number, body: string, type = "text/plain; charset=utf-8", extra: Record<string, string> = {}) =>
        endResponse(new fetchAPI.Response(request.method === "HEAD" ? null : body, { status, headers: { "content-type": type, ...SECURITY_HEADERS, ...extra } }));
      if (request.method !== "GET" && request.method !== "HEAD") return reply(405, "Method not allowed: GET the print view", undefined, { allow: "GET, HEAD" });
      const viewer = await linkViewer(deps, request, url, authenticate, LINK_MESSAGES);
      if (typeof viewer === "string") return reply(401, viewer, undefined, { "www-authenticate": "Bearer" });
      const page = await asSchool(viewer.schoolId, () => printPage(deps, viewer, match[1]!, request.method === "GET"));
      if (page === "not-found") return reply(404, "IEP not found");
      if (page === "forbidden") return reply(403, "Forbidden: your role or caseload does not allow this");
      return reply(200, page, "text/html; charset=utf-8");
    },
  };
}

/** The page (audited as EXPORTED when `exported`: a GET, not a HEAD), or why not: the IEP is not in the viewer's school, or its student is not on their caseload. */
async function printPage(deps: AppDeps, viewer: Viewer, id: string, exported: boolean): Promise<string | "not-found" | "forbidden"> {
  const iep = isUuid(id) ? await findIep(deps.pool, viewer.schoolId, id) : undefined;
  if (!iep) return "not-found";
  if (!(await mayAccessStudents(deps.pool, viewer, await loadStudentAccess(deps.pool, viewer), [iep.student_id]))) return "forbidden";
  const ctx = { viewer, deps };
  const [student, layout, people] = await Promise.all([
    findStudent(deps.pool, viewer.schoolId, iep.student_id),
    layoutOf(ctx, iep),
    findUsersByIds(deps.pool, viewer.schoolId, [iep.submitted_by, iep.approved_by].filter((u): u is string => u !== null)),
  ]);
  const chunkOf = await citedSources(ctx, iep);
  const requestId = currentRequestId();
  if (exported) await audit(deps.pool, viewer, requestId ? deps.logger.child({ requestId }) : deps.logger, "EXPORTED", "IEP", [{ id: iep.id, studentId: iep.student_id }]);
  const nameOf = (userId: string | null) => people.find((p) => p.id === userId)?.name ?? null;
  return renderPrint({ iep, student: student ?? null, layout, chunkOf, submittedBy: nameOf(iep.submitted_by), approvedBy: nameOf(iep.approved_by) });
}

/** A cited chunk that still exists, with its document. */
interface CitedSource {
  chunk: EvidenceChunk;
  evidence: Evidence | undefined;
}

/** The IEP's cited chunk ids that still exist, each with its chunk and document (two statements). */
async function citedSources(ctx: { viewer: Viewer; deps: AppDeps }, iep: IepRecord): Promise<Map<string, CitedSource>> {
  const cited = citedChunkIds(iep.content);
  const chunks = await citedChunkLoader(ctx).loadMany(cited);
  const found = cited.flatMap((chunkId, i) => {
    const chunk = chunks[i];
    return chunk && !(chunk instanceof Error) ? [[chunkId, chunk] as const] : [];
  });
  const documents = await findEvidenceByIds(ctx.deps.pool, ctx.viewer.schoolId, [...new Set(found.map(([, chunk]) => chunk.evidence_id))]);
  return new Map(found.map(([chunkId, chunk]) => [chunkId, { chunk, evidence: documents.find((e) => e.id === chunk.evidence_id) }]));
}

/** What the page shows. */
export interface PrintModel {
  iep: IepRecord;
  student: Student | null;
  layout: LaidOutSection[];
  /** The cited chunks that exist, with their documents. */
  chunkOf: ReadonlyMap<string, CitedSource>;
  submittedBy: string | null;
  approvedBy: string | null;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The print page's HTML. */
export function renderPrint(model: PrintModel): string {
  const { iep, student } = model;
  const notes = new Map<string, number>();
  const name = student ? `${student.first_name} ${student.last_name}` : "Unknown student";
  const sections = model.layout.filter((s) => s.content !== null).map((s, i) =>
    `<section><h2>${i + 1}. ${escapeHtml(s.label)}</h2>${renderValue(s.content, notes)}${s.extraItems.map((item) =>
      `<p><strong>${escapeHtml(item.label)}:</strong> ${item.value === null ? '<span class="none">Not filled in</span>' : escapeHtml(item.value)}</p>`).join("")}</section>`).join("\n");
  const footnotes = [...notes.keys()].map((chunkId) => `<li id="note-${notes.get(chunkId)}">${footnote(chunkId, model.chunkOf.get(chunkId) ?? null)}</li>`).join("\n");
  const meta: [string, string | null][] = [
    ["Student", name], ["Date of birth", student?.date_of_birth ?? null], ["Grade", student?.grade ?? null],
    ["Academic year", iep.academic_year], ["Meeting date", iep.meeting_date], ["Effective date", iep.effective_date],
    ["Annual review date", iep.annual_review_date], ["Version", String(iep.version)], ["Drafted", iep.created_at.toISOString().slice(0, 10)],
    ["Submitted for review", who(model.submittedBy, iep.submitted_at)], ["Approved", who(model.approvedBy, iep.approved_at)],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>IEP – ${escapeHtml(name)} – ${escapeHtml(iep.academic_year)} (version ${iep.version})</title>
<style>${CSS}</style></head>
<body><header><h1>Individualized Education Program</h1>
<p><span class="status">${escapeHtml(iep.status.replace("_", " "))}</span></p>
${iep.status === "FINAL" ? "" : '<p class="notice">Not approved: this IEP is a draft under review and may change.</p>'}
<dl class="meta">${meta.filter(([, v]) => v).map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl></header>
<main>
${sections}
</main>
<footer><h2>Evidence cited</h2>${footnotes ? `<ol class="notes">\n${footnotes}\n</ol>` : '<p class="none">No citations.</p>'}
<p class="none">Drafted by ${escapeHtml(iep.model)}; reviewed by the IEP team.</p></footer>
</body></html>
`;
}

function who(name: string | null, at: Date | null): string | null {
  return at ? `${at.toISOString().slice(0, 10)}${name ? ` by ${name}` : ""}` : null;
}

function footnote(chunkId: string, cited: CitedSource | null): string {
  if (!cited?.evidence) return `<span class="missing">Source missing:</span> the cited evidence (chunk ${escapeHtml(chunkId)}) no longer exists.`;
  const { chunk, evidence } = cited;
  const text = chunk.text.length > EXCERPT_CHARS ? `${chunk.text.slice(0, EXCERPT_CHARS).trimEnd()}…` : chunk.text;
  const where = chunk.page ? `p. ${chunk.page}` : `excerpt ${chunk.ordinal + 1} of ${Math.max(evidence.chunk_count, chunk.ordinal + 1)}`;
  return `<cite>${escapeHtml(evidence.title)}</cite>, ${where}: “${escapeHtml(text)}”`;
}

/** Footnote markers for a citations array, numbered by first appearance in the document. */
function markers(citations: unknown, notes: Map<string, number>): string {
  if (!Array.isArray(citations)) return "";
  return citations.filter((c): c is string => typeof c === "string").map((chunkId) => {
    if (!notes.has(chunkId)) notes.set(chunkId, notes.size + 1);
    const n = notes.get(chunkId)!;
    return `<sup><a href="#note-${n}">${n}</a></sup>`;
  }).join("");
}

/** A section's JSON as readable HTML: statements with their footnotes, labelled fields, lists. */
function renderValue(value: unknown, notes: Map<string, number>): string {
  if (value === null || value === undefined) return '<span class="none">None</span>';
  if (Array.isArray(value)) {
    if (value.length === 0) return '<span class="none">None</span>';
    return `<ol>${value.map((item) => `<li>${renderValue(item, notes)}</li>`).join("")}</ol>`;
  }
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const refs = markers(record.citations, notes);
    if (typeof record.statement === "string") return `<p>${escapeHtml(record.statement)}${refs}</p>`;
    const fields = Object.entries(record).filter(([key]) => key !== "citations").sort(([a], [b]) => rank(a) - rank(b))
      .map(([key, v]) => `<dt>${escapeHtml(humanize(key))}</dt><dd>${renderValue(v, notes)}</dd>`).join("");
    return `<dl class="fields">${fields}</dl>${refs ? `<p>Sources: ${refs}</p>` : ""}`;
  }
  return escapeHtml(value);
}

/** Each content key's position in the section schemas (src/iep/content.ts): fields print in the order the form declares them. */
const KEY_ORDER = new Map<string, number>();
function collectKeys(schema: unknown): void {
  const node = schema as { shape?: Record<string, unknown>; element?: unknown; unwrap?: () => unknown };
  if (node.shape) {
    for (const [key, child] of Object.entries(node.shape)) {
      if (!KEY_ORDER.has(key)) KEY_ORDER.set(key, KEY_ORDER.size);
      collectKeys(child);
    }
  } else if (node.element) collectKeys(node.element);
  else if (typeof node.unwrap === "function") collectKeys(node.unwrap());
}
Object.values(SECTION_SCHEMAS).forEach(collectKeys);
const rank = (key: string) => KEY_ORDER.get(key) ?? Number.MAX_SAFE_INTEGER;

/** "percentTimeInGeneralEducation" → "Percent time in general education". */
function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
