import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, formatTime, h, humanize, refocus, replace } from "../dom.ts";
import { WebStudent } from "../operations.ts";
import { evidencePanel } from "./evidence.ts";
import { generateForm } from "./generate-form.ts";
import { STATUS_TEXT } from "./generation.ts";

/** A student: details, evidence (live) with the add form, Generate, IEP versions and recent drafts. */
export function studentView(context: AppContext, id: string): HTMLElement {
  const view = h("div", { class: "stack" }, h("h1", {}, "Loading student…"));
  void context.api.urql.query(WebStudent, { id }).toPromise().then(({ data, error }) => {
    const student = data?.student;
    if (!student) return replace(view, h("h1", {}, "Student"), errorBox(error ? errorMessage(error) : "No such student on your caseload."));
    const generations = data.generations.edges.map((edge) => edge.node);
    replace(view,
      h("header", { class: "card" },
        h("h1", {}, student.fullName),
        h("p", { class: "meta" }, `Grade ${student.grade} · age ${student.age} · ${student.primaryLanguage}`,
          student.disabilityCategories.length ? ` · ${student.disabilityCategories.map(humanize).join(", ")}` : "")),
      evidencePanel(context, id, student.evidence, data.evidenceUploadLimits),
      generateForm(context, id),
      h("section", { class: "card", "aria-labelledby": "ieps-title" },
        h("h2", { id: "ieps-title" }, "IEP drafts"),
        student.ieps.length === 0 ? h("p", {}, "None yet.") : h("ul", { class: "links" }, student.ieps.map((iep) => h("li", {},
          h("a", { href: `#/ieps/${iep.id}` }, `${iep.academicYear}, version ${iep.version}`),
          h("span", { class: `badge iep-${iep.status.toLowerCase()}` }, humanize(iep.status)),
          h("span", { class: "meta" }, formatTime(iep.createdAt)))))),
      generations.length === 0 ? null : h("section", { class: "card", "aria-labelledby": "generations-title" },
        h("h2", { id: "generations-title" }, "Recent drafts"),
        h("ul", { class: "links" }, generations.map((generation) => h("li", {},
          h("a", { href: `#/generations/${generation.id}` }, `${generation.kind === "SECTION" ? "Section redraft" : "Full draft"} of ${formatTime(generation.createdAt)}`),
          h("span", { class: `badge gen-${generation.status.toLowerCase()}` }, STATUS_TEXT[generation.status]))))),
    );
    refocus(view);
  });
  return view;
}
