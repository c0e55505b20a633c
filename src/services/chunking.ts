/** Sizes chosen for gemini-embedding-001 (2,048-token input): ~300 tokens a window, ~50 of overlap. */
export const DEFAULT_CHUNKING = { maxChars: 1200, overlapChars: 200 } as const;

export interface ChunkingOptions {
  maxChars: number;
  overlapChars: number;
}

const sentenceSegmenter = new Intl.Segmenter("en", { granularity: "sentence" });
const graphemeSegmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * Splits a document into overlapping windows for embedding. Windows break at sentence ends where
 * possible, then at spaces, then between graphemes (never inside a surrogate pair or emoji; only a
 * single grapheme longer than `maxChars`, as in "zalgo" text, is split, between code points).
 * Each window holds at most `maxChars` UTF-16 units; consecutive windows share up to
 * `overlapChars` of trailing sentences. Whitespace-only input gives no chunks.
 */
export function chunkText(text: string, options: ChunkingOptions = DEFAULT_CHUNKING): string[] {
  const normalized = text
    .normalize("NFC")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t\f\v]+/g, " ")
    .replace(/ \n/g, "\n") // trailing spaces, so that whitespace-only lines count as blank lines
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  if (normalized === "") return [];
  const pieces = splitIntoPieces(normalized, options.maxChars);
  return packWindows(pieces, options);
}

function splitIntoPieces(text: string, maxChars: number): string[] {
  const sentences = Array.from(sentenceSegmenter.segment(text), (s) => s.segment);
  return sentences.flatMap((sentence) => (sentence.length <= maxChars ? [sentence] : splitLongSentence(sentence, maxChars)));
}

function splitLongSentence(sentence: string, maxChars: number): string[] {
  const words = splitIntoWords(sentence);
  const pieces: string[] = [];
  let current = "";
  for (const word of words) {
    if (word.length > maxChars) {
      if (current) pieces.push(current);
      pieces.push(...splitByGraphemes(word, maxChars));
      current = "";
    } else if (current.length + word.length > maxChars) {
      pieces.push(current);
      current = word;
    } else {
      current += word;
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

/** Words end after a whitespace grapheme; a space carrying a combining mark is one grapheme and stays whole. */
function splitIntoWords(sentence: string): string[] {
  const words: string[] = [];
  let current = "";
  for (const { segment } of graphemeSegmenter.segment(sentence)) {
    current += segment;
    if (/^\s+$/.test(segment)) {
      words.push(current);
      current = "";
    }
  }
  if (current) words.push(current);
  return words;
}

function splitByGraphemes(word: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let current = "";
  for (const { segment } of graphemeSegmenter.segment(word)) {
    // A single grapheme longer than a window (e.g. "zalgo" text stacking hundreds of combining marks)
    // cannot stay whole: split it between code points, still never inside a surrogate pair.
    for (const unit of segment.length > maxChars ? Array.from(segment) : [segment]) {
      if (current.length + unit.length > maxChars && current) {
        pieces.push(current);
        current = "";
      }
      current += unit;
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

function packWindows(pieces: string[], { maxChars, overlapChars }: ChunkingOptions): string[] {
  const windows: string[] = [];
  let window: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length + piece.length > maxChars && window.length > 0) {
      windows.push(window.join("").trim());
      window = overlapTail(window, overlapChars, maxChars - piece.length);
      length = window.reduce((sum, p) => sum + p.length, 0);
    }
    window.push(piece);
    length += piece.length;
  }
  windows.push(window.join("").trim());
  return windows.filter((w) => w.length > 0);
}

function overlapTail(window: string[], overlapChars: number, room: number): string[] {
  const tail: string[] = [];
  let length = 0;
  for (let i = window.length - 1; i >= 0; i--) {
    const piece = window[i]!;
    if (length + piece.length > Math.min(overlapChars, room)) break;
    tail.unshift(piece);
    length += piece.length;
  }
  return tail;
}
