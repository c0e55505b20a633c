import type { Api } from "./client.ts";
import { errorMessage } from "./client.ts";
import type { WebGenerationEventsSubscription } from "./gql/graphql.ts";
import { WebGenerationEvents } from "./operations.ts";

export type GenerationEvent = WebGenerationEventsSubscription["generationEvents"];

export interface WatchHandlers {
  /** A stored event (stage, status, progress, message), each seq once. */
  onEvent(event: GenerationEvent): void;
  /** Streamed draft text, each delta once. */
  onText(delta: string): void;
  /** The stream ended after a terminal event. */
  onEnd(): void;
  onError(message: string): void;
  /** The socket dropped; the watch resumes from `afterSeq` once it is back. */
  onResuming?(afterSeq: number): void;
}

/**
 * Follows a generation's `generationEvents`. When the socket drops, graphql-ws reconnects by
 * itself; the watch then subscribes afresh with `afterSeq` = the last stored seq it saw, so stored
 * events are neither missed nor repeated. Text deltas are live only: any streamed during the gap
 * are lost (never duplicated) — the saved IEP has the whole draft. Results from a superseded
 * subscription are ignored. Returns a function that stops watching.
 */
export function watchGeneration(api: Api, id: string, afterSeq: number, handlers: WatchHandlers): () => void {
  let lastSeq = afterSeq;
  let generation = 0;
  let stopped = false;
  let unsubscribe: () => void = () => undefined;

  const start = () => {
    generation += 1;
    const mine = generation;
    const subscription = api.urql.subscription(WebGenerationEvents, { id, afterSeq: lastSeq }).subscribe((result) => {
      if (stopped || mine !== generation) return;
      if (result.error) return handlers.onError(errorMessage(result.error));
      const event = result.data?.generationEvents;
      if (!event) return;
      if (event.textDelta !== null && event.textDelta !== undefined) return handlers.onText(event.textDelta);
      if (event.seq <= lastSeq) return;
      lastSeq = event.seq;
      handlers.onEvent(event);
      if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(event.status)) finish();
    });
    unsubscribe = () => subscription.unsubscribe();
  };

  const finish = () => {
    if (stopped) return;
    stop();
    handlers.onEnd();
  };

  const offClosed = api.ws.on("closed", (event) => {
    if (stopped || (event as CloseEvent | undefined)?.code === 1000) return;
    unsubscribe();
    handlers.onResuming?.(lastSeq);
    // After graphql-ws has dropped the dead socket: the new subscription waits for the next one.
    setTimeout(() => stopped || start(), 0);
  });

  const stop = () => {
    stopped = true;
    offClosed();
    unsubscribe();
  };

  start();
  return stop;
}
