import type { PubSub } from "../../events/bus.ts";
import { GenerationCancelledError } from "./errors.ts";

/** Generations running in this process, each with an AbortController that cancelGeneration reaches. */
export interface RunningGenerations {
  /**
   * Registers a generation this process is about to run. The signal aborts when any process
   * cancels it (a `generation.cancel` event over Postgres NOTIFY) or when `parent` aborts.
   */
  register(generationId: string, parent?: AbortSignal): { signal: AbortSignal; release(): void };
  /** The generations running in this process now (reported in its heartbeat). */
  ids(): string[];
  /** Aborts a generation if it runs in this process (the NOTIFY path reaches every process). */
  abortLocal(generationId: string): boolean;
  close(): Promise<void>;
}

export function createRunningGenerations(pubsub: PubSub): RunningGenerations {
  const controllers = new Map<string, AbortController>();
  const cancellations = pubsub.subscribe("generation.cancel");
  const abortLocal = (generationId: string) => {
    const controller = controllers.get(generationId);
    controller?.abort(new GenerationCancelledError(generationId));
    return controller !== undefined;
  };
  const listening = (async () => {
    for await (const event of cancellations) abortLocal(event.generationId);
  })();

  return {
    register(generationId, parent) {
      const controller = new AbortController();
      const onParentAbort = () => controller.abort(parent?.reason);
      parent?.addEventListener("abort", onParentAbort, { once: true });
      controllers.set(generationId, controller);
      return {
        signal: controller.signal,
        release() {
          parent?.removeEventListener("abort", onParentAbort);
          if (controllers.get(generationId) === controller) controllers.delete(generationId);
        },
      };
    },
    abortLocal,
    ids: () => [...controllers.keys()],
    async close() {
      await cancellations.return?.();
      await listening;
    },
  };
}
