import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, field, h, humanize, replace, uid } from "../dom.ts";
import type { GenerateIepInput } from "../gql/graphql.ts";
import { WebGenerate } from "../operations.ts";
import { EVIDENCE_KINDS } from "./evidence.ts";

/** Plain string (not a typed document): only sent when the server has templates (see capabilities). */
const TEMPLATES_QUERY = "query WebTemplates { iepTemplates { id name isDefault } }";

/**
 * The Generate form: instructions, and — when the server offers them — template, IEP dates and
 * which evidence kinds to use. On success it opens the generation's live view.
 */
export function generateForm(context: AppContext, studentId: string): HTMLElement {
  const { caps } = context;
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

  if (caps.templates) {
    void context.api.urql.query<{ iepTemplates: { id: string; name: string; isDefault: boolean }[] }>(TEMPLATES_QUERY, {}).toPromise().then(({ data }) => {
      for (const item of data?.iepTemplates ?? []) template.append(h("option", { value: item.isDefault ? "" : item.id }, item.name + (item.isDefault ? " (default)" : "")));
    });
  }

  const form = h("form", { class: "card generate", "aria-labelledby": "generate-title" },
    h("h2", { id: "generate-title" }, "Draft an IEP"),
    caps.templates ? field("Template", template) : null,
    caps.dates ? h("div", { class: "row" },
      field("Meeting date", dates.meetingDate), field("Effective date", dates.effectiveDate), field("Annual review date", dates.annualReviewDate)) : null,
    caps.evidenceKinds ? h("fieldset", { class: "kinds" }, h("legend", {}, "Evidence to use"),
      kinds.map((box) => h("span", { class: "check" }, box, h("label", { for: box.id }, humanize(box.value))))) : null,
    field("Instructions for the drafter (optional)", instructions, "E.g. focus on reading fluency; at most 2,000 characters."),
    button,
    status,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input: GenerateIepInput & Record<string, unknown> = { studentId };
    if (instructions.value.trim()) input.instructions = instructions.value.trim();
    if (caps.templates && template.value) input.templateId = template.value;
    if (caps.dates) for (const [name, control] of Object.entries(dates)) if (control.value) input[name] = control.value;
    if (caps.evidenceKinds) {
      const chosen = kinds.filter((box) => box.checked).map((box) => box.value);
      if (chosen.length === 0) return replace(status, errorBox("Choose at least one kind of evidence."));
      if (chosen.length < kinds.length) input.evidenceKinds = chosen;
    }
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
