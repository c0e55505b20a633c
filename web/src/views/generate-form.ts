import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, field, h, humanize, replace, uid } from "../dom.ts";
import type { EvidenceKind, GenerateIepInput } from "../gql/graphql.ts";
import { WebGenerate, WebTemplates } from "../operations.ts";
import { EVIDENCE_KINDS } from "./evidence.ts";

/**
 * The Generate form: template, IEP dates (meeting, effective, annual review), which kinds of
 * evidence feed the draft, and instructions. On success it opens the generation's live view.
 */
export function generateForm(context: AppContext, studentId: string): HTMLElement {
  const instructions = h("textarea", { name: "instructions", rows: 3, maxlength: 2000 });
  const template = h("select", { name: "template" }, h("option", { value: "" }, "Default (§300.320)"));
  const dates = {
    meetingDate: h("input", { type: "date", name: "meetingDate" }),
    effectiveDate: h("input", { type: "date", name: "effectiveDate" }),
    annualReviewDate: h("input", { type: "date", name: "annualReviewDate" }),
  };
  const kinds = EVIDENCE_KINDS.map((kind) => h("input", { type: "checkbox", name: "evidenceKinds", value: kind, checked: true, id: uid("kind") }));
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary" }, "Generate IEP draft");

  void context.api.urql.query(WebTemplates, {}).toPromise().then(({ data }) => {
    for (const item of data?.iepTemplates ?? []) if (!item.isDefault) template.append(h("option", { value: item.id }, item.name));
  });

  const form = h("form", { class: "card generate", "aria-labelledby": "generate-title" },
    h("h2", { id: "generate-title" }, "Draft an IEP"),
    field("Template", template),
    h("div", { class: "row" },
      field("Meeting date", dates.meetingDate, "Default: today."),
      field("Effective date", dates.effectiveDate, "Default: the meeting date."),
      field("Annual review date", dates.annualReviewDate, "Default: a year after the effective date.")),
    h("fieldset", { class: "kinds" }, h("legend", {}, "Evidence to use"),
      kinds.map((box) => h("span", { class: "check" }, box, h("label", { for: box.id }, humanize(box.value))))),
    field("Instructions for the drafter (optional)", instructions, "E.g. focus on reading fluency; at most 2,000 characters."),
    button,
    status,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input: GenerateIepInput = { studentId };
    if (instructions.value.trim()) input.instructions = instructions.value.trim();
    if (template.value) input.templateId = template.value;
    for (const name of ["meetingDate", "effectiveDate", "annualReviewDate"] as const) if (dates[name].value) input[name] = dates[name].value;
    const chosen = kinds.filter((box) => box.checked).map((box) => box.value as EvidenceKind);
    if (chosen.length === 0) return replace(status, errorBox("Choose at least one kind of evidence."));
    if (chosen.length < kinds.length) input.evidenceKinds = chosen;
    button.disabled = true;
    replace(status, h("p", {}, "Queuing…"));
    const { data, error } = await context.api.urql.mutation(WebGenerate, { input }).toPromise();
    button.disabled = false;
    const payload = data?.generateIep;
    if (payload?.__typename === "GenerateIepSuccess") return context.navigate(`#/generations/${payload.generation.id}`);
    if (payload?.__typename === "ValidationError") {
      return replace(status, errorBox(`${payload.message} ${payload.fieldErrors.map((e) => `${e.path.join(".")}: ${e.message}`).join("; ")}`));
    }
    replace(status, errorBox(payload && "message" in payload ? payload.message : error ? errorMessage(error) : "Could not queue the draft."));
  });
  return form;
}
