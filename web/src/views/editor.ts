import { errorBox, field, h, replace } from "../dom.ts";
import type { ReviewOutcome } from "../review.ts";

/**
 * Edits one section as JSON: the text is checked as JSON in the page (the line of a syntax error
 * is shown), then by the server's section schema and IEP rules, whose field errors are listed.
 * `save` resolves with the outcome; `done` runs after a successful save or on Cancel.
 */
export function sectionEditor(
  label: string,
  content: unknown,
  save: (content: unknown) => Promise<ReviewOutcome>,
  done: (saved: ReviewOutcome | undefined) => void,
): HTMLElement {
  const text = h("textarea", { class: "json", rows: 16, spellcheck: "false", autocomplete: "off" });
  text.value = JSON.stringify(content, null, 2);
  const errors = h("div", { "aria-live": "assertive" });
  const saveButton = h("button", { type: "submit", class: "primary" }, "Save section");
  const form = h("form", { class: "editor", "aria-label": `Edit ${label}` },
    field(`${label} (JSON)`, text, "The section's content as JSON; citations must be chunk ids of this student's evidence."),
    errors,
    h("div", { class: "actions" }, saveButton, h("button", { type: "button", class: "secondary", on: { click: () => done(undefined) } }, "Cancel")));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.value);
    } catch (error) {
      text.setAttribute("aria-invalid", "true");
      replace(errors, errorBox(`Not valid JSON: ${jsonProblem(text.value, error)}`));
      text.focus();
      return;
    }
    saveButton.disabled = true;
    const outcome = await save(parsed);
    saveButton.disabled = false;
    if (outcome.ok) return done(outcome);
    text.setAttribute("aria-invalid", "true");
    replace(errors, h("div", { class: "error", role: "alert" },
      h("p", {}, outcome.message),
      outcome.fieldErrors?.length ? h("ul", {}, outcome.fieldErrors.map((e) => h("li", {}, h("code", {}, e.path.join(".") || "(section)"), `: ${e.message}`))) : null));
  });
  queueMicrotask(() => text.focus());
  return form;
}

/** A JSON.parse error with its line number when the engine gives a position. */
function jsonProblem(source: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(message)?.[1];
  if (position === undefined) return message;
  const line = source.slice(0, Number(position)).split("\n").length;
  return `${message} (line ${line})`;
}
