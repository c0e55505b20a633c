import type { AppContext } from "../app.ts";
import { h } from "../dom.ts";
import { WebEvidenceStatus, WebStudent } from "../operations.ts";
import { addDocumentForm, type UploadLimits } from "./evidence-form.ts";
import { evidenceItem, type Evidence, type EvidenceItem } from "./evidence-item.ts";

export { EVIDENCE_KINDS } from "./evidence-form.ts";

const RESUBSCRIBE_GRACE_MS = 2000;
const PENDING_POLL_MS = 5000;

/**
 * The student's documents with their status and, while a file is read, its progress (live,
 * re-read after a reconnect), and a form to add one: typed text or an uploaded file.
 */
export function evidencePanel(context: AppContext, studentId: string, initial: Evidence[], limits: UploadLimits): HTMLElement {
  const documents = new Map(initial.map((evidence) => [evidence.id, { ...evidence }]));
  const list = h("ul", { class: "evidence" });
  const render = documentList(context, list);
  const show = () => render([...documents.values()]);
  show();

  const subscription = context.api.urql.subscription(WebEvidenceStatus, { studentId }).subscribe(({ data }) => {
    const changed = data?.evidenceStatusChanged;
    if (!changed) return;
    documents.set(changed.id, { ...documents.get(changed.id), ...changed });
    show();
  });
  // Changes made while the socket was down are not replayed: re-read the list once it is back (and
  // once more shortly after, for a change racing the re-subscription); re-read while any is PENDING.
  const reread = () => void context.api.urql.query(WebStudent, { id: studentId }).toPromise().then(({ data }) => {
    for (const evidence of data?.student?.evidence ?? []) documents.set(evidence.id, { ...evidence });
    show();
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

  const form = addDocumentForm(context, studentId, limits, (added) => {
    // The subscription may already have told a later state of it.
    if (!documents.has(added.id)) documents.set(added.id, { ...added });
    show();
  });
  return h("section", { class: "card", "aria-labelledby": "evidence-title" },
    h("h2", { id: "evidence-title" }, "Evidence"),
    list,
    form);
}

/**
 * Renders documents into `list`, keeping each document's row (and so its live status line) across
 * renders: rows are updated in place, new ones inserted, gone ones removed.
 */
function documentList(context: AppContext, list: HTMLUListElement): (documents: Evidence[]) => void {
  const items = new Map<string, EvidenceItem>();
  const empty = h("li", {}, "No documents yet: add an evaluation, assessment or progress note below.");
  return (documents) => {
    const rows: HTMLElement[] = documents.map((evidence) => {
      let item = items.get(evidence.id);
      if (!item) items.set(evidence.id, (item = evidenceItem(context, evidence.id)));
      item.update(evidence);
      return item.element;
    });
    if (rows.length === 0) rows.push(empty);
    rows.forEach((row, index) => {
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null);
    });
    while (list.children.length > rows.length) list.lastElementChild!.remove();
  };
}
