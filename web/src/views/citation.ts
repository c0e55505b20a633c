import { h, humanize, replace } from "../dom.ts";

/** A cited chunk as the IEP query returns it (null when the evidence was deleted); `page` only for a file's chunks. */
export interface CitedChunk {
  chunkId: string;
  missing?: boolean;
  chunk: { id: string; ordinal: number; page?: number | null; text: string; evidence: { id: string; title: string; kind: string } } | null | undefined;
}

/** "Psychoeducational evaluation, p. 7" (the page only when the chunk has one). */
function sourceName(chunk: NonNullable<CitedChunk["chunk"]>): string {
  return chunk.page == null ? chunk.evidence.title : `${chunk.evidence.title}, p. ${chunk.page}`;
}

/**
 * Numbers an IEP's cited chunks in order of first use and makes their buttons: each opens a
 * dialog with the chunk's text, its document and its position (with the page, for a file's
 * chunk), so a reviewer can check the statement against its source. A chunk that no longer
 * exists says so.
 */
export function citationIndex(chunks: CitedChunk[]) {
  const byId = new Map(chunks.map((chunk) => [chunk.chunkId, chunk]));
  const numbers = new Map<string, number>();
  const body = h("div", { class: "dialog-body" });
  const title = h("h2", { id: "citation-title" }, "Source");
  const close = h("button", { type: "button", class: "secondary" }, "Close");
  const dialog = h("dialog", { class: "citation", "aria-labelledby": "citation-title" }, title, body, h("div", { class: "actions" }, close));
  let opener: HTMLElement | undefined;
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener?.focus());

  const open = (chunkId: string, button: HTMLElement) => {
    opener = button;
    const cited = byId.get(chunkId);
    const number = numbers.get(chunkId);
    if (!cited?.chunk) {
      title.textContent = `Source ${number}: missing`;
      replace(body, h("p", {}, "This evidence no longer exists: it was deleted after the draft was written. The statement needs a new source."),
        h("p", { class: "meta" }, `Chunk ${chunkId}`));
    } else {
      const { chunk } = cited;
      title.textContent = `Source ${number}: ${sourceName(chunk)}`;
      const where = chunk.page == null ? "" : `p. ${chunk.page} · `;
      replace(body,
        h("p", { class: "meta" }, `${humanize(chunk.evidence.kind)} · ${where}part ${chunk.ordinal + 1} of the document`),
        h("blockquote", { class: "chunk-text" }, chunk.text));
    }
    dialog.showModal();
  };

  const button = (chunkId: string): HTMLElement => {
    if (!numbers.has(chunkId)) numbers.set(chunkId, numbers.size + 1);
    const number = numbers.get(chunkId)!;
    const cited = byId.get(chunkId);
    const missing = !cited?.chunk || cited.missing === true;
    const label = missing ? `Source ${number} (missing)` : `Source ${number}: ${sourceName(cited.chunk!)}`;
    const element = h("button", { type: "button", class: `cite${missing ? " missing" : ""}`, "aria-label": label, title: label, "data-chunk": chunkId },
      `[${number}]`);
    element.addEventListener("click", () => open(chunkId, element));
    return element;
  };

  return { dialog, button };
}
