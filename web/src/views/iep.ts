import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, formatTime, h, humanize, replace } from "../dom.ts";
import type { IepSectionKind, WebIepQuery } from "../gql/graphql.ts";
import { WebIep } from "../operations.ts";
import { approve, editSection, readReview, submitForReview, type IepReview, type ReviewOutcome, type SectionReview } from "../review.ts";
import { citationIndex } from "./citation.ts";
import { renderContent } from "./content.ts";
import { sectionEditor } from "./editor.ts";

type Iep = NonNullable<WebIepQuery["iep"]>;
type Section = Iep["sections"][number];

/** Section headings as on a standard IEP form (the server's labels win when it has them). */
const LABELS: Record<IepSectionKind, string> = {
  PRESENT_LEVELS: "Present levels of academic achievement and functional performance",
  ANNUAL_GOALS: "Measurable annual goals",
  PROGRESS_REPORTING: "Progress reporting",
  SERVICES: "Special education, related services and supports",
  LEAST_RESTRICTIVE_ENVIRONMENT: "Least restrictive environment",
  ASSESSMENT_PARTICIPATION: "Participation in state and district assessments",
  TRANSITION: "Transition services",
  TRANSFER_OF_RIGHTS: "Transfer of rights at the age of majority",
};

/**
 * An IEP with every section rendered readably, each citation opening its source; when the server
 * has the review API: who wrote each section, edit a section, submit for review, approve, print.
 */
export function iepView(context: AppContext, id: string): HTMLElement {
  const view = h("div", { class: "stack iep" }, h("h1", {}, "Loading the IEP…"));
  const load = async () => {
    const [{ data, error }, review] = await Promise.all([
      context.api.urql.query(WebIep, { id }).toPromise(),
      context.caps.review ? readReview(context.api.urql, id, context.caps.sectionProvenance) : Promise.resolve(undefined),
    ]);
    const iep = data?.iep;
    if (!iep) return replace(view, h("h1", {}, "IEP"), errorBox(error ? errorMessage(error) : "No such IEP on your caseload."));
    render(iep, review);
  };

  const render = (iep: Iep, review: IepReview | undefined) => {
    const cites = citationIndex(iep.sections.flatMap((section) => section.citations));
    const notes = h("div", { "aria-live": "polite" });
    const afterChange = (outcome: ReviewOutcome, what: string) => {
      if (!outcome.ok) return replace(notes, errorBox(outcome.message));
      if (outcome.iepId !== id) return context.navigate(`#/ieps/${outcome.iepId}`);
      void load().then(() => view.querySelector<HTMLElement>(".review-notes")?.replaceChildren(h("p", { class: "notice" }, what)));
    };
    const status = review?.status ?? iep.status;
    view.dataset.status = status;
    replace(view,
      h("header", { class: "card" },
        h("h1", {}, `IEP for ${iep.student.fullName}`),
        h("p", { class: "meta" }, `${iep.academicYear} · version ${iep.version} · `, h("span", { class: `badge iep-${status.toLowerCase()}` }, humanize(status)),
          ` · drafted by ${iep.model} on ${formatTime(iep.createdAt)}`),
        review ? reviewBar(context, review, afterChange) : null,
        h("div", { class: "review-notes" }, notes),
        h("nav", { "aria-label": "Sections" }, h("ol", { class: "toc" }, iep.sections.map((section) =>
          h("li", {}, h("a", { href: `#/ieps/${id}`, "data-target": `section-${section.kind}`, on: { click: jump } }, labelOf(section, review))))))),
      iep.sections.map((section) => sectionCard(context, iep, section, review, cites.button, afterChange)),
      cites.dialog);
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

function labelOf(section: Section, review: IepReview | undefined): string {
  return sectionReview(section, review)?.label ?? LABELS[section.kind];
}

function sectionReview(section: Section, review: IepReview | undefined): SectionReview | undefined {
  return review?.sections?.find((candidate) => candidate.kind === section.kind);
}

function reviewBar(context: AppContext, review: IepReview, afterChange: (outcome: ReviewOutcome, what: string) => void): HTMLElement {
  const { urql } = context.api;
  return h("div", { class: "actions review" },
    review.status === "DRAFT" ? h("button", { type: "button", class: "primary", on: { click: async () => afterChange(await submitForReview(urql, review.id), "Submitted for review.") } }, "Submit for review") : null,
    review.status === "IN_REVIEW" ? h("button", { type: "button", class: "primary", on: { click: async () => afterChange(await approve(urql, review.id), "Approved: this version is final.") } }, "Approve") : null,
    h("a", { class: "button secondary", href: review.printUrl, target: "_blank", rel: "noopener" }, "Print", h("span", { class: "visually-hidden" }, " (opens in a new tab)")),
    review.submittedAt ? h("span", { class: "meta" }, `Submitted ${formatTime(review.submittedAt)}${review.submittedBy ? ` by ${review.submittedBy.name}` : ""}.`) : null,
    review.approvedAt ? h("span", { class: "meta" }, `Approved ${formatTime(review.approvedAt)}${review.approvedBy ? ` by ${review.approvedBy.name}` : ""}.`) : null);
}

function sectionCard(
  context: AppContext,
  iep: Iep,
  section: Section,
  review: IepReview | undefined,
  cite: (chunkId: string) => HTMLElement,
  afterChange: (outcome: ReviewOutcome, what: string) => void,
): HTMLElement {
  const details = sectionReview(section, review);
  const label = labelOf(section, review);
  const headingId = `heading-${section.kind}`;
  const body = h("div", {}, renderContent(section.content, cite));
  const edit = context.caps.review
    ? h("button", { type: "button", class: "secondary", "aria-describedby": headingId, on: { click: () => openEditor() } }, "Edit section")
    : null;
  const openEditor = () => {
    edit?.setAttribute("hidden", "");
    replace(body, sectionEditor(label, section.content,
      (content) => editSection(context.api.urql, iep.id, section.kind, content),
      (saved) => {
        if (saved) return afterChange(saved, `Saved “${label}”.`);
        edit?.removeAttribute("hidden");
        replace(body, renderContent(section.content, cite));
        edit?.focus();
      }));
  };
  return h("section", { class: "card section", id: `section-${section.kind}`, "aria-labelledby": headingId },
    h("div", { class: "section-head" }, h("h2", { id: headingId, tabindex: -1 }, label), edit),
    details ? provenanceLine(details) : null,
    details?.missingCitations?.length ? errorBox(`${details.missingCitations.length} citation(s) point to evidence that no longer exists.`) : null,
    body);
}

function provenanceLine(section: SectionReview): HTMLElement {
  const { provenance } = section;
  const text = provenance.source === "PERSON"
    ? `Edited by ${provenance.editedBy?.name ?? "a person"}${provenance.editedAt ? ` on ${formatTime(provenance.editedAt)}` : ""}${provenance.changedPaths.length ? ` (changed: ${provenance.changedPaths.join(", ")})` : ""}`
    : `Drafted by AI${provenance.model ? ` (${provenance.model}${provenance.promptVersion ? `, prompt ${provenance.promptVersion}` : ""})` : ""}`;
  return h("p", { class: `provenance source-${provenance.source.toLowerCase()}` }, text);
}
