import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, field, formatTime, h, humanize, replace } from "../dom.ts";
import type { EvidenceKind, WebStudentQuery } from "../gql/graphql.ts";
import { WebAddEvidence, WebEvidenceStatus, WebStudent } from "../operations.ts";

type Evidence = NonNullable<WebStudentQuery["student"]>["evidence"][number];

export const EVIDENCE_KINDS: EvidenceKind[] = [
  "EVALUATION", "ASSESSMENT", "PROGRESS_NOTE", "TEACHER_OBSERVATION", "PARENT_INPUT", "PRIOR_IEP", "OTHER",
];

const RESUBSCRIBE_GRACE_MS = 2000;
const PENDING_POLL_MS = 5000;
const STATUS_TEXT = { PENDING: "Processing…", READY: "Ready", FAILED: "Failed" } as const;

/** The student's documents with their status (live, re-read after a reconnect), and a form to add one. */
export function evidencePanel(context: AppContext, studentId: string, initial: Evidence[]): HTMLElement {
  const documents = new Map(initial.map((evidence) => [evidence.id, { ...evidence }]));
  const list = h("ul", { class: "evidence" });
  const render = () => replace(list, documents.size === 0
    ? h("li", {}, "No documents yet: add an evaluation, assessment or progress note below.")
    : [...documents.values()].map((evidence) => h("li", {},
        h("span", { class: "title" }, evidence.title),
        h("span", { class: "meta" }, `${humanize(evidence.kind)} · added ${formatTime(evidence.createdAt)}`),
        h("span", { class: `badge status-${evidence.status.toLowerCase()}` }, STATUS_TEXT[evidence.status]),
        evidence.error ? h("span", { class: "error-text" }, evidence.error) : null)));
  render();

  const subscription = context.api.urql.subscription(WebEvidenceStatus, { studentId }).subscribe(({ data }) => {
    const changed = data?.evidenceStatusChanged;
    if (!changed) return;
    documents.set(changed.id, { ...documents.get(changed.id), ...changed });
    render();
  });
  // Changes made while the socket was down are not replayed: re-read the list once it is back (and
  // once more shortly after, for a change racing the re-subscription); re-read while any is PENDING.
  const reread = () => void context.api.urql.query(WebStudent, { id: studentId }).toPromise().then(({ data }) => {
    for (const evidence of data?.student?.evidence ?? []) documents.set(evidence.id, { ...evidence });
    render();
  });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const offConnected = context.api.ws.on("connected", (_socket, _payload, wasRetry) => {
    if (!wasRetry) return;
    reread();
    timers.add(setTimeout(reread, RESUBSCRIBE_GRACE_MS));
  });
  const pendingPoll = setInterval(() => {
    if ([...documents.values()].some((evidence) => evidence.status === "PENDING")) reread();
  }, PENDING_POLL_MS);
  context.onLeave(() => {
    subscription.unsubscribe();
    offConnected();
    timers.forEach(clearTimeout);
    clearInterval(pendingPoll);
  });

  const form = addDocumentForm(context, studentId, (added) => {
    documents.set(added.id, { ...added, error: null, chunkCount: 0, createdAt: new Date().toISOString() });
    render();
  });
  return h("section", { class: "card", "aria-labelledby": "evidence-title" },
    h("h2", { id: "evidence-title" }, "Evidence"),
    h("div", { "aria-live": "polite" }, list),
    form);
}

function addDocumentForm(context: AppContext, studentId: string, added: (evidence: Omit<Evidence, "error" | "chunkCount" | "createdAt">) => void): HTMLElement {
  const title = h("input", { name: "title", required: true, maxlength: 200 });
  const kind = h("select", { name: "kind" }, EVIDENCE_KINDS.map((value) => h("option", { value }, humanize(value))));
  const body = h("textarea", { name: "body", rows: 6, required: true });
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Add document");
  const form = h("form", { class: "add-document" },
    h("h3", {}, "Add a document"), field("Title", title), field("Kind", kind), field("Text", body, "Plain text: the evaluation, notes or report."), button, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const input = { studentId, title: title.value, kind: kind.value as EvidenceKind, body: body.value };
    const { data, error } = await context.api.urql.mutation(WebAddEvidence, { input }).toPromise();
    button.disabled = false;
    const payload = data?.addEvidence;
    if (payload?.__typename === "AddEvidenceSuccess") {
      added(payload.evidence);
      form.reset();
      replace(status, h("p", { class: "notice" }, `Added “${payload.evidence.title}”: it is being processed.`));
    } else if (payload?.__typename === "ValidationError") {
      replace(status, errorBox(`${payload.message} ${payload.fieldErrors.map((e) => `${e.path.join(".")}: ${e.message}`).join("; ")}`));
    } else {
      replace(status, errorBox(payload && "message" in payload ? payload.message : error ? errorMessage(error) : "Could not add the document."));
    }
  });
  return form;
}
