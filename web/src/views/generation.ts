import type { AppContext } from "../app.ts";
import type { CombinedError } from "@urql/core";
import { errorMessage } from "../client.ts";
import { errorBox, formatTime, h, replace } from "../dom.ts";
import type { GenerationStage, GenerationStatus, WebGenerationQuery } from "../gql/graphql.ts";
import { WebCancel, WebGeneration, WebGenerationRecheck, WebRetry } from "../operations.ts";
import { watchGeneration, type GenerationEvent } from "../watch.ts";

type Generation = NonNullable<WebGenerationQuery["generation"]>;

export const STATUS_TEXT: Record<GenerationStatus, string> = {
  QUEUED: "Queued", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed", CANCELLED: "Cancelled",
};

/** Stages in words people use. */
export const STAGE_TEXT: Record<GenerationStage, string> = {
  QUEUED: "Waiting for a worker",
  STARTING: "Starting",
  RETRIEVING: "Finding the relevant evidence",
  DRAFTING: "Writing the draft",
  VALIDATING: "Checking the draft against IDEA and its citations",
  REPAIRING: "Repairing the draft",
  SAVING: "Saving",
  DONE: "Draft saved",
  FAILED: "Gave up",
  CANCELLED: "Cancelled",
  WAITING_FOR_GEMINI: "Waiting for Gemini (it is unavailable; this does not use up an attempt)",
  WAITING_FOR_DATABASE: "Waiting for the database",
  WAITING_TO_RETRY: "Waiting to retry after a failed attempt",
  INTERRUPTED: "Interrupted: queued again",
  RECOVERED: "Recovered after a worker stopped: queued again",
};

const QUEUE_POLL_MS = 3000;
const STALE_REREAD_MS = 250;
const TERMINAL = new Set<GenerationStatus>(["SUCCEEDED", "FAILED", "CANCELLED"]);

/**
 * A generation, live: status (queued with position and estimate, running, waiting for Gemini,
 * succeeded, failed, cancelled), a progress bar, each stage's message, and the draft text as it
 * streams; Cancel while it runs, Retry once it failed or was cancelled, the IEP once it is saved.
 */
export function generationView(context: AppContext, id: string): HTMLElement {
  const { urql } = context.api;
  const title = h("h1", { id: "generation-title" }, "IEP draft");
  const statusLine = h("p", { class: "status-line", id: "generation-status" });
  const progress = h("progress", { max: 1, value: 0, "aria-labelledby": "generation-status" });
  const percent = h("span", { class: "percent", "aria-hidden": "true" }, "0%");
  const stages = h("ol", { class: "stages", "aria-label": "Stages" });
  const draft = h("pre", { class: "draft", tabindex: 0, role: "region", "aria-labelledby": "draft-title" });
  const actions = h("div", { class: "actions" });
  const notes = h("div", { "aria-live": "polite" });
  const view = h("div", { class: "stack" },
    h("section", { class: "card", "aria-labelledby": "generation-title" },
      title,
      h("div", { role: "status", "aria-live": "polite", "aria-atomic": "true" }, statusLine),
      h("div", { class: "bar" }, progress, percent),
      actions, notes),
    h("section", { class: "card", "aria-label": "Stages and draft" },
      h("h2", {}, "Stages"), stages,
      h("h2", { id: "draft-title" }, "Draft text"), draft));

  let state: Generation | undefined;
  let stopWatch: (() => void) | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  let liveAtLoad = false;
  /** Events up to this seq are history the page already read (replayed to list the stages). */
  let readUpTo = 0;
  context.onLeave(() => {
    stopWatch?.();
    clearInterval(poll);
  });

  const show = () => {
    if (!state) return;
    progress.value = state.progress;
    percent.textContent = `${Math.round(state.progress * 100)}%`;
    view.dataset.status = state.status;
    view.dataset.stage = state.stage;
    replace(statusLine, describe(state));
    replace(actions,
      state.status === "QUEUED" || state.status === "RUNNING"
        ? h("button", { type: "button", class: "danger", on: { click: () => void cancel() } }, "Cancel")
        : null,
      state.status === "FAILED" || state.status === "CANCELLED"
        ? h("button", { type: "button", class: "primary", on: { click: () => void retry() } }, "Retry")
        : null,
      state.iep ? h("a", { class: "button primary", href: `#/ieps/${state.iep.id}`, id: "open-iep" }, "Read the IEP") : null,
      h("a", { class: "button secondary", href: `#/students/${state.student.id}` }, `Back to ${state.student.fullName}`));
  };

  /** The first read is `generation(id)` (audited: the user viewed it); re-reads come from the student's recent list. */
  const read = async (): Promise<{ generation?: Generation | null; error?: CombinedError }> => {
    if (state) {
      const { data } = await urql.query(WebGenerationRecheck, { studentId: state.student.id }).toPromise();
      const found = data?.generations.edges.find((edge) => edge.node.id === id)?.node;
      if (found) return { generation: found };
    }
    const { data, error } = await urql.query(WebGeneration, { id }).toPromise();
    return { generation: data?.generation, error };
  };

  let latestRefresh = 0;
  /** Re-reads the generation; only the latest read's answer counts (an older one may arrive last). */
  const refresh = async () => {
    const mine = ++latestRefresh;
    const { generation: fresh, error } = await read();
    if (mine !== latestRefresh) return;
    if (!fresh) return replace(notes, errorBox(error ? errorMessage(error) : "No such generation."));
    // An answer read before the latest event (urql may hand a new read an identical one still in
    // flight) keeps that event's status, stage and progress, and the generation is read again: its
    // other fields (the saved IEP, the error) belong to the latest event too.
    const stale = state !== undefined && fresh.lastSeq < state.lastSeq;
    state = state && stale
      ? { ...fresh, status: state.status, stage: state.stage, progress: state.progress, message: state.message, lastSeq: state.lastSeq }
      : fresh;
    title.textContent = `IEP draft for ${state.student.fullName}`;
    show();
    if (stale) setTimeout(() => void refresh(), STALE_REREAD_MS);
  };

  let previousStage: GenerationStage | undefined;
  let draftStart = 0;
  /** A draft (re)starts — a new attempt, or a restart after a transient failure: its text starts over. */
  const restartsDraft = (event: GenerationEvent) =>
    event.stage === "DRAFTING" && (previousStage !== "DRAFTING" || event.progress <= draftStart);

  const onEvent = (event: GenerationEvent) => {
    if (restartsDraft(event)) {
      draft.replaceChildren();
      draftStart = event.progress;
    }
    previousStage = event.stage;
    stages.append(h("li", { "data-seq": event.seq },
      h("time", { datetime: event.at }, formatTime(event.at)), " ", h("strong", {}, STAGE_TEXT[event.stage]),
      event.message ? ` — ${event.message}` : ""));
    if (!state || event.seq <= readUpTo) return;
    const statusChanged = state.status !== event.status;
    state = { ...state, status: event.status, stage: event.stage, progress: event.progress, message: event.message, lastSeq: event.seq };
    show();
    if (statusChanged) void refresh();
  };

  const watch = (afterSeq: number) => {
    stopWatch?.();
    stopWatch = watchGeneration(context.api, id, afterSeq, {
      onEvent,
      onText: (delta) => draft.append(delta),
      onEnd: () => void refresh().then(() => {
        if (liveAtLoad && state?.status === "SUCCEEDED") view.querySelector<HTMLElement>("#open-iep")?.focus();
      }),
      onError: (message) => replace(notes, errorBox(message)),
      onResuming: (seq) => replace(notes, h("p", { class: "notice" }, `Connection lost: resuming after event ${seq}…`)),
    });
  };

  const cancel = async () => {
    const { data, error } = await urql.mutation(WebCancel, { id }).toPromise();
    const payload = data?.cancelGeneration;
    if (payload?.__typename !== "CancelGenerationSuccess") {
      replace(notes, errorBox(payload && "message" in payload ? payload.message : error ? errorMessage(error) : "Could not cancel."));
    }
  };

  const retry = async () => {
    const { data, error } = await urql.mutation(WebRetry, { id }).toPromise();
    const payload = data?.retryGeneration;
    if (payload?.__typename !== "GenerateIepSuccess") {
      return replace(notes, errorBox(payload && "message" in payload ? payload.message : error ? errorMessage(error) : "Could not retry."));
    }
    replace(notes, h("p", { class: "notice" }, "Queued again."));
    draft.replaceChildren();
    liveAtLoad = true;
    watch(payload.generation.lastSeq);
    await refresh();
  };

  poll = setInterval(() => {
    if (state?.status === "QUEUED") void refresh();
  }, QUEUE_POLL_MS);

  void refresh().then(() => {
    if (!state) return;
    liveAtLoad = !TERMINAL.has(state.status);
    readUpTo = state.lastSeq;
    watch(0);
  });
  return view;
}

/** The status line: what is happening now, in words. */
function describe(generation: Generation): string {
  const { status, stage } = generation;
  if (status === "QUEUED") {
    if (stage === "WAITING_FOR_GEMINI") return `Waiting for Gemini: it is unavailable right now; the draft resumes by itself (no attempt used).${eta(generation)}`;
    const position = generation.queuePosition ? ` Position ${generation.queuePosition} in the queue.` : "";
    return `Queued.${position}${eta(generation)}${stage !== "QUEUED" ? ` ${STAGE_TEXT[stage]}.` : ""}`;
  }
  if (status === "RUNNING") return `Running: ${STAGE_TEXT[stage]} (${Math.round(generation.progress * 100)}%).${generation.message ? ` ${generation.message}` : ""}`;
  if (status === "SUCCEEDED") return "Succeeded: the draft is saved.";
  if (status === "FAILED") return `Failed after ${generation.attempts} of ${generation.maxAttempts} attempts: ${generation.error ?? "unknown error"}`;
  return "Cancelled.";
}

function eta(generation: Generation): string {
  return generation.estimatedCompletionAt ? ` Estimated done by ${formatTime(generation.estimatedCompletionAt)}.` : "";
}
