/** The longest placeholder handed out is far shorter: "[GUARDIAN_12_NAME_3]". */
const MAX_PLACEHOLDER_CHARS = 48;
/** An unfinished placeholder at the very end of the text, e.g. "[GUARD". */
const PARTIAL_TAIL = new RegExp(`\\[[A-Za-z0-9_]{0,${MAX_PLACEHOLDER_CHARS}}$`);

/**
 * Restores placeholders in text that arrives in pieces. A placeholder may be split across two
 * pieces ("[GUARD" + "IAN_1]"), so a trailing "[…" that could still become one is held back until
 * the next piece completes it (or shows it is not one).
 */
export interface StreamRestorer {
  /** Text that is safe to send now, restored; may be "" while a placeholder is incomplete. */
  push(piece: string): string;
  /** Whatever is held back, restored (the stream ended). */
  end(): string;
  /** Drops what is held back (the stream restarted). */
  reset(): void;
}

export function createStreamRestorer(restore: (text: string) => string): StreamRestorer {
  let held = "";
  return {
    push(piece) {
      const text = held + piece;
      const partial = PARTIAL_TAIL.exec(text);
      const cut = partial ? partial.index : text.length;
      held = text.slice(cut);
      return restore(text.slice(0, cut));
    },
    end() {
      const text = held;
      held = "";
      return restore(text);
    },
    reset() {
      held = "";
    },
  };
}
