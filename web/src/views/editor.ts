import { errorBox, field, h, replace } from "../dom.ts";
import type { ReviewOutcome } from "../review.ts";
import { contentForm, type ValueForm } from "./form-editor.ts";

/**
 * Edits one section, as a form (one control per field) or as JSON (the whole content, citations
 * included). JSON is checked in the page (a syntax error's line is shown), then the content by
 * the server's section schema and IEP rules, whose field errors are listed. `save` resolves with
 * the outcome; `done` runs after a successful save or on Cancel.
 */
export function sectionEditor(
  label: string,
  content: unknown,
  save: (content: unknown) => Promise<ReviewOutcome>,
  done: (saved: ReviewOutcome | undefined) => void,
): HTMLElement {
  let mode: "form" | "json" = "form";
  let form: ValueForm = contentForm(content);
  const formArea = h("div", { class: "form-area" }, form.element);
  const text = h("textarea", { class: "json", rows: 16, spellcheck: "false", autocomplete: "off" });
  const jsonArea = field(`${label} (JSON)`, text, "The section's content as JSON; citations must be chunk ids of this student's evidence.");
  jsonArea.hidden = true;
  const errors = h("div", { "aria-live": "assertive" });
  const showForm = h("button", { type: "button", class: "secondary", "aria-pressed": "true" }, "Form");
  const showJson = h("button", { type: "button", class: "secondary", "aria-pressed": "false" }, "JSON");
  const saveButton = h("button", { type: "submit", class: "primary" }, "Save section");

  const parsed = (): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(text.value) };
    } catch (error) {
      text.setAttribute("aria-invalid", "true");
      replace(errors, errorBox(`Not valid JSON: ${jsonProblem(text.value, error)}`));
      text.focus();
      return { ok: false };
    }
  };
  const switchTo = (next: "form" | "json") => {
    if (next === mode) return;
    if (next === "json") text.value = JSON.stringify(form.read(), null, 2);
    else {
      const json = parsed();
      if (!json.ok) return;
      form = contentForm(json.value);
      replace(formArea, form.element);
    }
    mode = next;
    formArea.hidden = mode !== "form";
    jsonArea.hidden = mode !== "json";
    showForm.setAttribute("aria-pressed", String(mode === "form"));
    showJson.setAttribute("aria-pressed", String(mode === "json"));
    replace(errors);
  };
  showForm.addEventListener("click", () => switchTo("form"));
  showJson.addEventListener("click", () => switchTo("json"));

  const element = h("form", { class: "editor", "aria-label": `Edit ${label}` },
    h("div", { class: "actions", role: "group", "aria-label": "Edit as" }, showForm, showJson),
    formArea, jsonArea, errors,
    h("div", { class: "actions" }, saveButton, h("button", { type: "button", class: "secondary", on: { click: () => done(undefined) } }, "Cancel")));

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    let value: unknown = form.read();
    if (mode === "json") {
      const json = parsed();
      if (!json.ok) return;
      value = json.value;
    }
    saveButton.disabled = true;
    const outcome = await save(value);
    saveButton.disabled = false;
    if (outcome.ok) return done(outcome);
    if (mode === "json") text.setAttribute("aria-invalid", "true");
    replace(errors, h("div", { class: "error", role: "alert" },
      h("p", {}, outcome.message),
      outcome.fieldErrors?.length ? h("ul", {}, outcome.fieldErrors.map((e) => h("li", {}, h("code", {}, e.path.join(".") || "(section)"), `: ${e.message}`))) : null));
  });
  queueMicrotask(() => element.querySelector<HTMLElement>("textarea, input")?.focus());
  return element;
}

/** A JSON.parse error with its line number when the engine gives a position. */
function jsonProblem(source: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(message)?.[1];
  if (position === undefined) return message;
  const line = source.slice(0, Number(position)).split("\n").length;
  return `${message} (line ${line})`;
}
