import { EVENTS_CHANNEL, type GenerationDeltaEvent } from "../../events/bus.ts";
import type { Queryable } from "../../db/pool.ts";
import { createStreamRestorer } from "../../privacy/stream.ts";

/** NOTIFY payloads must stay under 8,000 bytes; JSON escaping and UTF-8 can grow text 4×. */
const MAX_PIECE_CHARS = 1500;

/**
 * Publishes streamed draft text as `generation.delta` events, coalesced (at most one NOTIFY per
 * piece every `intervalMs`, the pieces of one flush in one statement, in order) so a fast stream
 * cannot flood the NOTIFY queue. Deltas are live only,
 * never stored; each carries the seq of the latest stored event.
 *
 * The model writes placeholders for the student's identifiers (src/privacy/); `restore` puts the
 * real values back before text is sent. A placeholder split across two pieces ("[GUARD" +
 * "IAN_1]") is held back until it is complete, so subscribers never see a placeholder.
 */
export function createDeltaPublisher(
  db: Queryable,
  target: { schoolId: string; generationId: string },
  intervalMs = 50,
  restore: (text: string) => string = (text) => text,
) {
  const restorer = createStreamRestorer(restore);
  let buffer = "";
  let latestSeq = 0;
  let holding = false;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();

  const flush = () => {
    timer = undefined;
    if (holding) return sending;
    const text = buffer;
    buffer = "";
    if (text === "") return sending;
    const seq = latestSeq;
    sending = sending.then(async () => {
      const pieces: GenerationDeltaEvent[] = [];
      for (let start = 0; start < text.length; start += MAX_PIECE_CHARS) {
        pieces.push({ type: "generation.delta", ...target, seq, text: text.slice(start, start + MAX_PIECE_CHARS) });
      }
      await db.query("select pg_notify($1, piece) from unnest($2::text[]) with ordinality as p(piece, n) order by n",
        [EVENTS_CHANNEL, pieces.map((piece) => JSON.stringify(piece))]);
    }).catch(() => undefined);
    return sending;
  };

  return {
    push(text: string) {
      buffer += restorer.push(text);
      timer ??= setTimeout(flush, intervalMs);
    },
    /**
     * Sends what is buffered and holds further text until `release`, while a stored event is
     * written: text sent meanwhile would carry the old seq after the new event and be dropped.
     */
    async holdForStoredEvent() {
      clearTimeout(timer);
      await flush();
      holding = true;
    },
    /** Resumes sending after a stored event, labelling text with that event's seq. */
    release(seq: number) {
      latestSeq = seq;
      holding = false;
      if (buffer !== "") timer ??= setTimeout(flush, intervalMs);
    },
    /** Sends what is buffered now, including a held-back "[…" (the stream ended). */
    async flushNow() {
      buffer += restorer.end();
      clearTimeout(timer);
      await flush();
    },
    /** Drops buffered text (the draft restarted). */
    discard() {
      clearTimeout(timer);
      timer = undefined;
      buffer = "";
      restorer.reset();
    },
  };
}

export type DeltaPublisher = ReturnType<typeof createDeltaPublisher>;
