import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { formatTime, h, humanize, replace } from "../dom.ts";
import type { WebStudentQuery } from "../gql/graphql.ts";
import { WebEvidenceDownloadUrl } from "../operations.ts";

/** A document as the student query, the status subscription and addEvidence return it. */
export type Evidence = NonNullable<WebStudentQuery["student"]>["evidence"][number];

const STATUS_TEXT = { PENDING: "Processing…", READY: "Ready", FAILED: "Failed" } as const;
/** A download URL is signed for 5 minutes: one older than this is refreshed before it is used. */
const DOWNLOAD_URL_FRESH_MS = 4 * 60_000;

const MEDIA_TYPE_NAMES: Record<string, string> = {
  "application/pdf": "PDF",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/tiff": "TIFF image",
  "text/plain": "Plain text",
};

/** "application/pdf" → "PDF" (the media type itself when unknown). */
export function mediaTypeName(mediaType: string): string {
  return MEDIA_TYPE_NAMES[mediaType] ?? mediaType;
}

/**
 * 48_213 → "47 KB"; 3_500_000 → "3.3 MB"; 26_214_400 → "25 MB" (1 KB = 1024 bytes). Rounded `up`,
 * a size just over a limit never reads as the limit itself (26_214_401 → "25.1 MB").
 */
export function formatBytes(bytes: number, round: "nearest" | "up" = "nearest"): string {
  const rounding = round === "up" ? Math.ceil : Math.round;
  if (bytes < 1024 * 1024) return `${Math.max(1, rounding(bytes / 1024))} KB`;
  return `${rounding((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** What a PENDING document is doing now: "Reading page 3 of 20", "Reading text…", "Embedding…"; null when not PENDING. */
export function progressText(evidence: Pick<Evidence, "status" | "stage" | "pageCount" | "pagesDone" | "source">): string | null {
  if (evidence.status !== "PENDING") return null;
  if (evidence.stage === "EMBEDDING") return "Embedding…";
  if (evidence.stage === "EXTRACTING") {
    const { pageCount, pagesDone } = evidence;
    return pageCount ? `Reading page ${Math.min(pagesDone + 1, pageCount)} of ${pageCount}` : "Reading text…";
  }
  return evidence.source ? "Waiting to be read…" : null;
}

/** "evaluation.pdf · PDF · 47 KB · 3 pages": what the original file is. */
function fileLine(evidence: Evidence): string {
  const { source, pageCount } = evidence;
  if (!source) return "";
  const pages = pageCount == null ? [] : [`${pageCount} ${pageCount === 1 ? "page" : "pages"}`];
  return [source.filename, mediaTypeName(source.mediaType), formatBytes(source.byteSize), ...pages].join(" · ");
}

/** Sets a text only when it changed (a live region re-announces any write). */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** One document of the list, kept (not re-created) across updates so its live status line is announced. */
export interface EvidenceItem {
  element: HTMLLIElement;
  update(evidence: Evidence): void;
}

/**
 * A document's row: title, kind and date; for a file its name, type, size and pages and a
 * "Download original" link; its status, with a live progress line while PENDING (role=status).
 */
export function evidenceItem(context: AppContext, id: string): EvidenceItem {
  const title = h("span", { class: "title" });
  const meta = h("span", { class: "meta" });
  const file = h("span", { class: "meta file" });
  const badge = h("span", { class: "badge" });
  const progress = h("span", { class: "progress-text" });
  const error = h("span", { class: "error-text" });
  const download = downloadLink(context, id);
  const element = h("li", { "data-evidence-id": id },
    title, meta, file, h("span", { role: "status", class: "evidence-status" }, badge, " ", progress), error, download.element);
  return {
    element,
    update(evidence) {
      setText(title, evidence.title);
      setText(meta, `${humanize(evidence.kind)} · added ${formatTime(evidence.createdAt)}`);
      setText(file, fileLine(evidence));
      file.hidden = !evidence.source;
      badge.className = `badge status-${evidence.status.toLowerCase()}`;
      setText(badge, STATUS_TEXT[evidence.status]);
      setText(progress, progressText(evidence) ?? "");
      setText(error, evidence.error ?? "");
      error.hidden = !evidence.error;
      download.update(evidence);
    },
  };
}

/** Why a download URL was refused, by HTTP status. */
const DOWNLOAD_REFUSALS: Record<number, string> = {
  401: "the link was refused (expired, or your session ended); try again.",
  404: "the file is no longer there, or the student is not on your caseload.",
};

/**
 * "Download original": a link to the file's signed URL (valid 5 minutes). A click asks for a fresh
 * URL, checks it (HEAD) and downloads from it (the server answers with Content-Disposition:
 * attachment), or says why it cannot. A URL older than 4 minutes is also refreshed when the link
 * is hovered or focused, so opening it in a new tab or copying it works too.
 */
function downloadLink(context: AppContext, id: string) {
  const name = h("span", { class: "visually-hidden" });
  const link = h("a", { class: "download", download: "" }, "Download original", name);
  const problem = h("span", { class: "error-text", role: "alert" });
  const element = h("span", { class: "download-original" }, link, problem);
  let signedAt = 0;
  const setUrl = (url: string) => {
    link.href = url;
    signedAt = Date.now();
  };
  const fresh = async (): Promise<string | undefined> => {
    const { data, error } = await context.api.urql.query(WebEvidenceDownloadUrl, { id }).toPromise();
    const url = data?.evidence?.source?.downloadUrl;
    replace(problem, url ? null : `Could not get a download link: ${error ? errorMessage(error) : "the document is no longer there."}`);
    if (url) setUrl(url);
    return url;
  };
  const refreshIfOld = () => {
    if (Date.now() - signedAt > DOWNLOAD_URL_FRESH_MS) void fresh();
  };
  link.addEventListener("pointerenter", refreshIfOld);
  link.addEventListener("focus", refreshIfOld);
  link.addEventListener("click", async (event) => {
    // A new tab or window (modifier keys) opens the href as it is; a plain click uses a fresh URL.
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const url = await fresh();
    if (!url) return;
    // Asked first (HEAD: not a download, not audited), so a refusal is explained here rather than saved as a file.
    const check = await fetch(url, { method: "HEAD" }).catch(() => undefined);
    if (check?.ok) return h("a", { href: url, download: "" }).click();
    replace(problem, `Could not download the original: ${check ? DOWNLOAD_REFUSALS[check.status] ?? `the server answered ${check.status}.` : "the server cannot be reached."}`);
  });
  return {
    element,
    update(evidence: Evidence) {
      element.hidden = !evidence.source;
      if (!evidence.source) return;
      setText(name, ` of “${evidence.title}”`);
      if (evidence.source.downloadUrl !== link.getAttribute("href")) setUrl(evidence.source.downloadUrl);
    },
  };
}
