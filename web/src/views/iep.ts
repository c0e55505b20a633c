import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, formatTime, h, humanize, refocus, replace } from "../dom.ts";
import type { WebIepQuery } from "../gql/graphql.ts";
import { WebIep, WebPrintUrl } from "../operations.ts";
import { approve, editSection, submitForReview, type ReviewOutcome } from "../review.ts";
import { citationIndex } from "./citation.ts";
import { renderContent } from "./content.ts";
import { sectionEditor } from "./editor.ts";

type Iep = NonNullable<WebIepQuery["iep"]>;

const PRINT_URL_FRESH_MS = 4 * 60_000;
type Section = Iep["sections"][number];

/**
 * An IEP with every section (in its template's order and labels) rendered readably, each citation
 * opening its source; who wrote each section (AI or a person); edit a section, submit for review,
 * approve, print.
 */
export function iepView(context: AppContext, id: string): HTMLElement {
  const view = h("div", { class: "stack iep" }, h("h1", {}, "Loading the IEP…"));
  const load = async () => {
    const { data, error } = await context.api.urql.query(WebIep, { id }).toPromise();
    const iep = data?.iep;
    if (!iep) return replace(view, h("h1", {}, "IEP"), errorBox(error ? errorMessage(error) : "No such IEP on your caseload."));
    render(iep);
  };

  const render = (iep: Iep) => {
    const cites = citationIndex(iep.sections.flatMap((section) => section.citations));
    const notes = h("div", { "aria-live": "polite" });
    const afterChange = (outcome: ReviewOutcome, what: string) => {
      if (!outcome.ok) return replace(notes, errorBox(outcome.message));
      if (outcome.iepId !== id) return context.navigate(`#/ieps/${outcome.iepId}`);
      void load().then(() => {
        view.querySelector<HTMLElement>(".review-notes")?.replaceChildren(h("p", { class: "notice" }, what));
      });
    };
    const { status } = iep;
    view.dataset.status = status;
    replace(view,
      h("header", { class: "card" },
        h("h1", { tabindex: -1 }, `IEP for ${iep.student.fullName}`),
        h("p", { class: "meta" }, `${iep.academicYear} · version ${iep.version} · `, h("span", { class: `badge iep-${status.toLowerCase()}` }, humanize(status)),
          ` · drafted by ${iep.model} on ${formatTime(iep.createdAt)}`),
        iep.effectiveDate ? h("p", { class: "meta" }, `Meeting ${iep.meetingDate ?? "—"} · effective ${iep.effectiveDate} · annual review ${iep.annualReviewDate ?? "—"}`) : null,
        reviewBar(context, iep, afterChange),
        iep.versions.length > 1 ? h("nav", { "aria-label": "Versions", class: "versions" }, "Versions: ", iep.versions.map((other) =>
          other.id === iep.id
            ? h("span", { "aria-current": "page", class: "current" }, `${other.version} (${humanize(other.status)})`)
            : h("a", { href: `#/ieps/${other.id}` }, `${other.version} (${humanize(other.status)})`))) : null,
        h("div", { class: "review-notes" }, notes),
        h("nav", { "aria-label": "Sections" }, h("ol", { class: "toc" }, iep.sections.map((section) =>
          h("li", {}, h("a", { href: `#/ieps/${id}`, "data-target": `section-${section.kind}`, on: { click: jump } }, section.label)))))),
      iep.sections.map((section) => sectionCard(context, iep, section, cites.button, afterChange)),
      cites.dialog);
    refocus(view);
  };
  void load();
  return view;
}

/** Scrolls to a section without changing the route. */
function jump(event: MouseEvent): void {
  event.preventDefault();
  const target = document.getElementById((event.currentTarget as HTMLElement).dataset.target ?? "");
  target?.scrollIntoView({ block: "start" });
  target?.querySelector<HTMLElement>("h2")?.focus();
}

function reviewBar(context: AppContext, review: Iep, afterChange: (outcome: ReviewOutcome, what: string) => void): HTMLElement {
  const { urql } = context.api;
  return h("div", { class: "actions review" },
    review.status === "DRAFT" ? h("button", { type: "button", class: "primary", on: { click: async () => afterChange(await submitForReview(urql, review.id), "Submitted for review.") } }, "Submit for review") : null,
    review.status === "IN_REVIEW" ? h("button", { type: "button", class: "primary", on: { click: async () => afterChange(await approve(urql, review.id), "Approved: this version is final.") } }, "Approve") : null,
    printLink(context, review),
    review.submittedAt ? h("span", { class: "meta" }, `Submitted ${formatTime(review.submittedAt)}${review.submittedBy ? ` by ${review.submittedBy.name}` : ""}.`) : null,
    review.approvedAt ? h("span", { class: "meta" }, `Approved ${formatTime(review.approvedAt)}${review.approvedBy ? ` by ${review.approvedBy.name}` : ""}.`) : null,
    review.status === "FINAL" ? h("span", { class: "meta" }, "Final: an edit starts a new draft version.") : null);
}

/**
 * The print view's link. Its signed URL is valid for 5 minutes: after 4, a click asks for a fresh
 * one (no re-read in the background: each read of an IEP is audited).
 */
function printLink(context: AppContext, iep: Iep): HTMLElement {
  const issuedAt = Date.now();
  const link = h("a", { class: "button secondary print", href: iep.printUrl, target: "_blank", rel: "noopener" },
    "Print", h("span", { class: "visually-hidden" }, " (opens in a new tab)"));
  link.addEventListener("click", (event) => {
    if (Date.now() - issuedAt < PRINT_URL_FRESH_MS) return;
    event.preventDefault();
    void context.api.urql.query(WebPrintUrl, { id: iep.id }).toPromise().then(({ data }) => {
      if (data?.iep) window.open(data.iep.printUrl, "_blank", "noopener");
    });
  });
  return link;
}

function sectionCard(
  context: AppContext,
  iep: Iep,
  section: Section,
  cite: (chunkId: string) => HTMLElement,
  afterChange: (outcome: ReviewOutcome, what: string) => void,
): HTMLElement {
  const { label } = section;
  const headingId = `heading-${section.kind}`;
  const body = h("div", {}, renderContent(section.content, cite));
  const edit = h("button", { type: "button", class: "secondary", "aria-describedby": headingId, on: { click: () => openEditor() } }, "Edit section");
  const openEditor = () => {
    edit.setAttribute("hidden", "");
    replace(body, sectionEditor(label, section.content,
      (content) => editSection(context.api.urql, iep.id, iep.revision, section.kind, content),
      (saved) => {
        if (saved) return afterChange(saved, `Saved “${label}”.`);
        edit.removeAttribute("hidden");
        replace(body, renderContent(section.content, cite));
        edit.focus();
      }));
  };
  return h("section", { class: "card section", id: `section-${section.kind}`, "aria-labelledby": headingId },
    h("div", { class: "section-head" }, h("h2", { id: headingId, tabindex: -1 }, label), edit),
    provenanceLine(section),
    changeLine(iep, section),
    section.missingCitations.length ? errorBox(`${section.missingCitations.length} citation(s) point to evidence that no longer exists: marked in red below.`) : null,
    body,
    templateItems(iep, section));
}

/** The template's extra items (state-specific fields) shown in this section, with the draft's values. */
function templateItems(iep: Iep, section: Section): HTMLElement | null {
  const items = iep.template?.extraItems.filter((item) => item.section === section.kind) ?? [];
  if (items.length === 0) return null;
  const content = iep.content as { templateItems?: Record<string, unknown> } | null;
  const values = content?.templateItems ?? {};
  return h("div", { class: "template-items" },
    h("h3", {}, "Items of this form"),
    h("div", { class: "content-body" }, h("dl", {}, items.map((item) => [
      h("dt", {}, item.label),
      h("dd", {}, typeof values[item.key] === "string" ? String(values[item.key]) : "—"),
    ]))));
}

function provenanceLine(section: Section): HTMLElement {
  const { provenance } = section;
  const text = provenance.source === "PERSON"
    ? `Edited by ${provenance.editedBy?.name ?? "a person"}${provenance.editedAt ? ` on ${formatTime(provenance.editedAt)}` : ""}${provenance.changedPaths.length ? ` (changed: ${provenance.changedPaths.join(", ")})` : ""}`
    : `Drafted by AI${provenance.model ? ` (${provenance.model}${provenance.promptVersion ? `, prompt ${provenance.promptVersion}` : ""})` : ""}`;
  return h("p", { class: `provenance source-${provenance.source.toLowerCase()}` }, text);
}

/** What changed in this section since the previous version (nothing for a first version or an unchanged section). */
function changeLine(iep: Iep, section: Section): HTMLElement | null {
  if (iep.version === 1) return null;
  const diff = iep.diff.find((candidate) => candidate.kind === section.kind);
  if (!diff || diff.change === "UNCHANGED") return null;
  const what = diff.change === "ADDED" ? "New in this version" : `Changed since version ${iep.version - 1}`;
  return h("p", { class: "change" }, diff.changedPaths.length ? `${what}: ${diff.changedPaths.join(", ")}` : what);
}
