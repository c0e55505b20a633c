import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, field, h, humanize, replace, uid } from "../dom.ts";
import type { AddEvidenceInput, EvidenceKind, WebAddEvidenceMutation } from "../gql/graphql.ts";
import { WebAddEvidence } from "../operations.ts";
import { formatBytes, type Evidence } from "./evidence-item.ts";

export const EVIDENCE_KINDS: EvidenceKind[] = [
  "EVALUATION", "ASSESSMENT", "PROGRESS_NOTE", "TEACHER_OBSERVATION", "PARENT_INPUT", "PRIOR_IEP", "OTHER",
];

/** The server's limits on a file (`evidenceUploadLimits`): checked here before sending, and by the server again. */
export interface UploadLimits {
  maxBytes: number;
  maxPages: number;
}
/** What the file picker offers: the types the server reads (it sniffs the bytes: the name is only a hint). */
export const ACCEPTED_FILES = ".pdf,.docx,.png,.jpg,.jpeg,.tif,.tiff,.txt";

type Source = "text" | "file";
type Payload = WebAddEvidenceMutation["addEvidence"];

/** "Evaluation 2026.final.pdf" → "Evaluation 2026.final" (at most 200 characters). */
export function titleFromFilename(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot > 0 ? name.slice(0, dot) : name).trim().slice(0, 200);
}

/** Why a file cannot be sent (checked in the page; the server checks again), or undefined. */
export function fileProblem(file: File, maxBytes: number): string | undefined {
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > maxBytes) {
    return `“${file.name}” is ${formatBytes(file.size, "up")}: a file can be at most ${formatBytes(maxBytes)}. Split it, or scan it at a lower resolution.`;
  }
  return undefined;
}

/** A ValidationError as one text: its message, then each field's that says more ("Title: …"). */
function validationText(payload: Extract<Payload, { __typename: "ValidationError" }>): string {
  const fields = payload.fieldErrors.filter((error) => error.message !== payload.message)
    .map((error) => `${humanize(String(error.path[error.path.length - 1] ?? "input"))}: ${error.message}`);
  return [payload.message, ...fields].join(" ");
}

/**
 * The "Add a document" form: a title, a kind, and either typed text or a file (PDF, Word, image or
 * plain text; sent as a GraphQL multipart request by urql). The title defaults to the file's name;
 * a file over the server's `maxBytes` is refused before it is sent. Errors (the server's ValidationError included)
 * show below the form, and the fields they name are marked invalid.
 */
export function addDocumentForm(context: AppContext, studentId: string, limits: UploadLimits, added: (evidence: Evidence) => void): HTMLElement {
  const title = h("input", { name: "title", required: true, maxlength: 200 });
  const kind = h("select", { name: "kind" }, EVIDENCE_KINDS.map((value) => h("option", { value }, humanize(value))));
  const body = h("textarea", { name: "body", rows: 6, required: true });
  const file = h("input", { type: "file", name: "file", accept: ACCEPTED_FILES });
  const controls: Record<string, HTMLElement> = { title, kind, body, file };
  const bodyField = field("Text", body, "Plain text: the evaluation, notes or report.");
  const fileField = field("File", file,
    `PDF (up to ${limits.maxPages} pages), Word (.docx), PNG, JPEG, TIFF or plain text, up to ${formatBytes(limits.maxBytes)}. Scanned pages are read with OCR. The title defaults to the file's name.`);
  const group = uid("source");
  const choices = ([["text", "Type text"], ["file", "Upload a file"]] as const).map(([value, label]) => {
    const radio = h("input", { type: "radio", name: group, value, id: uid("source"), checked: value === "text" });
    return { radio, element: h("span", { class: "check" }, radio, h("label", { for: radio.id }, label)) };
  });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Add document");
  const form = h("form", { class: "add-document" },
    h("h3", {}, "Add a document"), field("Title", title), field("Kind", kind),
    h("fieldset", { class: "kinds source" }, h("legend", {}, "Content"), choices.map((choice) => choice.element)),
    bodyField, fileField, button, status);

  let source: Source = "text";
  let autoTitle = "";
  const choose = (next: Source) => {
    source = next;
    bodyField.hidden = next !== "text";
    body.required = next === "text";
    fileField.hidden = next !== "file";
    file.required = next === "file";
    title.required = next === "text";
  };
  choose("text");
  for (const { radio } of choices) radio.addEventListener("change", () => radio.checked && choose(radio.value as Source));
  const markInvalid = (names: string[]) => {
    for (const [name, control] of Object.entries(controls)) {
      if (names.includes(name)) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  };

  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (!title.value.trim() || title.value === autoTitle) title.value = autoTitle = titleFromFilename(chosen.name);
    const problem = fileProblem(chosen, limits.maxBytes);
    markInvalid(problem ? ["file"] : []);
    replace(status, problem ? errorBox(problem) : null);
  });

  /** The mutation's input, or why there is none. */
  const readInput = (): AddEvidenceInput | string => {
    const common = { studentId, kind: kind.value as EvidenceKind };
    if (source === "text") return { ...common, title: title.value, body: body.value };
    const chosen = file.files?.[0];
    if (!chosen) return "Choose a file to upload.";
    return fileProblem(chosen, limits.maxBytes) ?? { ...common, title: title.value.trim() || titleFromFilename(chosen.name), file: chosen };
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = readInput();
    if (typeof input === "string") {
      markInvalid(["file"]);
      return replace(status, errorBox(input));
    }
    markInvalid([]);
    button.disabled = true;
    const upload = input.file as File | undefined;
    replace(status, upload ? h("p", {}, `Uploading “${upload.name}” (${formatBytes(upload.size)})…`) : null);
    const { data, error } = await context.api.urql.mutation(WebAddEvidence, { input }).toPromise();
    button.disabled = false;
    const payload = data?.addEvidence;
    if (payload?.__typename === "AddEvidenceSuccess") {
      added(payload.evidence);
      form.reset();
      autoTitle = "";
      for (const { radio } of choices) radio.checked = radio.value === source;
      replace(status, h("p", { class: "notice" }, `Added “${payload.evidence.title}”: it is being ${upload ? "read" : "processed"}.`));
    } else if (payload?.__typename === "ValidationError") {
      markInvalid(payload.fieldErrors.map((e) => String(e.path[e.path.length - 1])));
      replace(status, errorBox(validationText(payload)));
    } else if (error && (error.response as Response | undefined)?.status === 413) {
      markInvalid(["file"]);
      replace(status, errorBox(error.graphQLErrors.length ? errorMessage(error) : "The server refused the file: it is too large."));
    } else {
      replace(status, errorBox(payload && "message" in payload ? payload.message : error ? errorMessage(error) : "Could not add the document."));
    }
  });
  return form;
}
