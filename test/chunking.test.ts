import { describe, expect, it } from "vitest";
import { chunkText, DEFAULT_CHUNKING, type ChunkingOptions } from "../src/services/chunking.ts";
import { seededRandom } from "../src/gemini/simulator/random.ts";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const graphemeSegmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

function graphemes(text: string): string[] {
  return Array.from(graphemeSegmenter.segment(text), (s) => s.segment);
}

/** Graphemes of each chunk that are not graphemes of the source: non-empty iff some grapheme was cut. */
function brokenGraphemes(chunks: readonly string[], source: string): string[] {
  const whole = new Set(graphemes(source.normalize("NFC")));
  return chunks.flatMap((chunk) => graphemes(chunk).filter((g) => !whole.has(g)));
}

/** Length of the longest prefix of `next` that is also a suffix of `previous`. */
function overlapLength(previous: string, next: string): number {
  for (let k = Math.min(previous.length, next.length); k > 0; k--) {
    if (previous.endsWith(next.slice(0, k))) return k;
  }
  return 0;
}

function withoutWhitespace(text: string): string {
  return text.replace(/\s+/g, "");
}

function expectWellFormed(chunks: readonly string[], options: ChunkingOptions): void {
  for (const chunk of chunks) {
    expect(chunk.length).toBeGreaterThan(0);
    expect(chunk.length).toBeLessThanOrEqual(options.maxChars);
    expect(chunk).toBe(chunk.trim());
    expect(chunk).not.toMatch(LONE_SURROGATE);
  }
}


const WORDS = [
  "student", "reads", "fluently", "with", "support", "during", "guided", "practice", "math", "fractions",
  "teacher", "observed", "behaviour", "transitions", "accuracy", "percent", "weekly", "probe", "goal", "baseline",
  "the", "a", "and", "in", "of", "to", "independently", "peers", "counselor", "speech",
];

/** Sentences of 6–20 words (well under the default overlap), each tagged with a unique id. */
function varietySentences(count: number, seed = 42): string[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const length = 6 + Math.floor(next() * 15);
    const words = Array.from({ length }, () => WORDS[Math.floor(next() * WORDS.length)]!);
    const end = [".", "!", "?"][Math.floor(next() * 3)]!;
    return `Item ${i} ${words.join(" ")}${end}`;
  });
}

describe("chunkText: blank and short input", () => {
  it("gives no chunks for empty or whitespace-only text", () => {
    expect(chunkText("")).toEqual([]);
    expect(chunkText("   ")).toEqual([]);
    expect(chunkText(" \t\r\n\r\n\f\v \n ")).toEqual([]);
  });

  it("gives exactly one chunk, the trimmed text, for a short document", () => {
    expect(chunkText("  Maya reads 62 words correct per minute in grade 3 passages.  \n")).toEqual([
      "Maya reads 62 words correct per minute in grade 3 passages.",
    ]);
    expect(chunkText("x")).toEqual(["x"]);
  });

  it("keeps a document of exactly maxChars in one chunk and splits one just over it", () => {
    const exact = "a".repeat(DEFAULT_CHUNKING.maxChars);
    expect(chunkText(exact)).toEqual([exact]);
    const over = `${exact}b`;
    const chunks = chunkText(over);
    expect(chunks.length).toBe(2);
    expect(chunks.join("")).toBe(over);
  });

  it("normalises CRLF and lone CR to LF and collapses repeated blank lines", () => {
    const chunks = chunkText("Line one.\r\nLine two.\r\n\r\n\r\n\r\n\r\nLine three.\rLine four.\n\n\n\nLine five.");
    expect(chunks).toEqual(["Line one.\nLine two.\n\nLine three.\nLine four.\n\nLine five."]);
    expect(chunks[0]).not.toContain("\r");
  });

  it("treats whitespace-only lines as blank lines and collapses runs of spaces and tabs", () => {
    expect(chunkText("Para one.  \n \t \n   \n\t\nPara two.")).toEqual(["Para one.\n\nPara two."]);
    expect(chunkText("Reads\t\t  with   support .")).toEqual(["Reads with support ."]);
    // A single line break (and indentation after it) is content, not noise.
    expect(chunkText("Goals:\n  - reading\n  - math")).toEqual(["Goals:\n - reading\n - math"]);
  });
});

describe("chunkText: a huge document", () => {
  const sentences = varietySentences(2_500);
  const paragraphs: string[] = [];
  for (let i = 0; i < sentences.length; i += 7) paragraphs.push(sentences.slice(i, i + 7).join(" "));
  const text = paragraphs.join("\n\n");
  const maxSentence = Math.max(...sentences.map((s) => s.length));

  const started = performance.now();
  const chunks = chunkText(text);
  const elapsedMs = performance.now() - started;

  it("is really huge, and is chunked quickly", () => {
    expect(text.length).toBeGreaterThan(200_000);
    expect(maxSentence).toBeLessThan(DEFAULT_CHUNKING.overlapChars);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it("keeps every chunk within maxChars, trimmed and non-empty", () => {
    expectWellFormed(chunks, DEFAULT_CHUNKING);
  });

  it("produces a sane number of well-filled chunks", () => {
    const { maxChars, overlapChars } = DEFAULT_CHUNKING;
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(text.length / maxChars));
    // Each chunk adds at least maxChars − overlap − (a sentence that did not fit) of new text.
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(text.length / (maxChars - overlapChars - maxSentence)) + 1);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeGreaterThan(maxChars - maxSentence - 2);
  });

  it("covers every sentence, in order, breaking only at sentence ends", () => {
    let chunkIndex = 0;
    for (const sentence of sentences) {
      while (chunkIndex < chunks.length && !chunks[chunkIndex]!.includes(sentence)) chunkIndex++;
      expect(chunkIndex, `sentence "${sentence}" is in no chunk at or after the previous sentence's`).toBeLessThan(chunks.length);
    }
    expect(chunks[0]!.startsWith(sentences[0]!)).toBe(true);
    expect(chunks.at(-1)!.endsWith(sentences.at(-1)!)).toBe(true);
    for (const chunk of chunks) {
      expect(chunk).toMatch(/^Item \d+ /);
      expect(chunk).toMatch(/[.!?]$/);
    }
  });

  it("overlaps consecutive chunks by whole trailing sentences of at most overlapChars", () => {
    for (let i = 0; i + 1 < chunks.length; i++) {
      const shared = overlapLength(chunks[i]!, chunks[i + 1]!);
      expect(shared, `overlap between chunks ${i} and ${i + 1}`).toBeGreaterThan(0);
      expect(shared).toBeLessThanOrEqual(DEFAULT_CHUNKING.overlapChars);
      const overlap = chunks[i + 1]!.slice(0, shared);
      expect(overlap).toMatch(/^Item \d+ .*[.!?]$/s);
      expect(sentences.some((s) => overlap.endsWith(s))).toBe(true);
    }
  });

  it("loses and duplicates nothing: stitching the chunks minus their overlaps gives back the text", () => {
    let stitched = chunks[0]!;
    for (let i = 1; i < chunks.length; i++) stitched += chunks[i]!.slice(overlapLength(chunks[i - 1]!, chunks[i]!));
    expect(withoutWhitespace(stitched)).toBe(withoutWhitespace(text));
  });
});

describe("chunkText: text that cannot be split at sentence ends", () => {
  it("splits a single 5,000-character word without losing a character", () => {
    const word = Array.from({ length: 5_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    const chunks = chunkText(word);
    expectWellFormed(chunks, DEFAULT_CHUNKING);
    expect(chunks.length).toBe(Math.ceil(5_000 / DEFAULT_CHUNKING.maxChars));
    expect(chunks.join("")).toBe(word);
  });

  it("splits a run-on sentence longer than maxChars at spaces", () => {
    const words = Array.from({ length: 600 }, (_, i) => `word${i}`);
    const text = `${words.join(" ")}.`;
    const options = { maxChars: 300, overlapChars: 50 };
    const chunks = chunkText(text, options);
    expectWellFormed(chunks, options);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(text.length / options.maxChars));
    for (const chunk of chunks) expect(chunk).toMatch(/^word\d+( word\d+)*\.?$/);
    expect(chunks.join(" ")).toBe(text);
  });

  it("keeps its window limit for a single grapheme longer than maxChars (zalgo), splitting between code points", () => {
    const zalgo = `Z${"\u0301\u0316\u0354".repeat(20)}`;
    expect(graphemes(zalgo)).toHaveLength(1);
    const options = { maxChars: 20, overlapChars: 5 };
    const chunks = chunkText(zalgo, options);
    expectWellFormed(chunks, options);
    expect(chunks.join("")).toBe(zalgo.normalize("NFC")); // NFC composes Ź and reorders the marks
  });
});

describe("chunkText: unicode", () => {
  const EMOJI = ["👩‍👩‍👧", "👨🏽‍💻", "🇫🇷", "🇯🇵", "🏳️‍🌈", "👍🏾", "1️⃣", "⭐", "🧑‍🤝‍🧑"];

  it("never splits an emoji (ZWJ sequences, flags, skin tones, keycaps) or a surrogate pair", () => {
    const run = Array.from({ length: 300 }, (_, i) => EMOJI[i % EMOJI.length]).join("");
    const sentences = Array.from({ length: 40 }, (_, i) => `Maya earned ${EMOJI[i % EMOJI.length]} stickers ${EMOJI[(i + 3) % EMOJI.length]} today.`);
    const text = `${sentences.join(" ")} ${run} ${sentences.join(" ")}`;
    // 8 = the longest emoji here (👩‍👩‍👧 and 🧑‍🤝‍🧑 are 8 UTF-16 units): below that one could not stay whole.
    for (const maxChars of [8, 13, 31, 64]) {
      const options = { maxChars, overlapChars: 0 };
      const chunks = chunkText(text, options);
      expectWellFormed(chunks, options);
      expect(brokenGraphemes(chunks, text)).toEqual([]);
      expect(withoutWhitespace(chunks.join(""))).toBe(withoutWhitespace(text));
    }
  });

  it("detects a cut grapheme (self-check of the helper used above)", () => {
    const family = "👩‍👩‍👧";
    expect(brokenGraphemes([family.slice(0, 5)], family)).not.toEqual([]);
    expect(brokenGraphemes(["🇫"], "🇫🇷")).toEqual(["🇫"]); // half a flag
    expect(brokenGraphemes(["\u0301x"], "e\u0301x")).toEqual(["\u0301"]); // a mark without its base
    expect(brokenGraphemes([family, "🇫🇷"], `${family} 🇫🇷`)).toEqual([]);
  });

  it("splits CJK text without spaces between graphemes, keeping astral ideographs whole", () => {
    const text = "小明今天在课堂上认真阅读了三本书并且完成了数学作业𠮷野家の𩸽を食べた".repeat(40);
    for (const maxChars of [7, 50, 101]) {
      const options = { maxChars, overlapChars: 10 };
      const chunks = chunkText(text, options);
      expectWellFormed(chunks, options);
      expect(brokenGraphemes(chunks, text)).toEqual([]);
      expect(chunks.join("")).toBe(text);
    }
  });

  it("breaks CJK text at its sentence ends (。) and overlaps whole sentences", () => {
    const sentences = Array.from({ length: 60 }, (_, i) => `第${i}周小明完成了阅读练习。`);
    const options = { maxChars: 80, overlapChars: 20 };
    const chunks = chunkText(sentences.join(""), options);
    expectWellFormed(chunks, options);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk).toMatch(/^第\d+周.*。$/);
    for (let i = 0; i + 1 < chunks.length; i++) {
      const shared = overlapLength(chunks[i]!, chunks[i + 1]!);
      expect(shared).toBeGreaterThan(0);
      expect(shared).toBeLessThanOrEqual(options.overlapChars);
    }
  });

  it("applies NFC normalisation", () => {
    const decomposed = "Cafe\u0301 nai\u0308ve \u1100\u1161\u11A8 A\u030A.";
    const [chunk, ...rest] = chunkText(decomposed);
    expect(rest).toEqual([]);
    expect(chunk).toBe("Caf\u00E9 na\u00EFve \uAC01 \u00C5.");
    expect(chunk).toBe(chunk!.normalize("NFC"));
    expect(chunk).not.toMatch(/\p{M}/u);
  });

  it("keeps combining marks and Arabic/Devanagari clusters with their base characters", () => {
    const arabic = "مَرْحَبًا بِكُمْ فِي الْمَدْرَسَةِ. تَقْرَأُ الطَّالِبَةُ بِطَلَاقَةٍ";
    const devanagari = "क्षत्रिय विद्यार्थी ने पुस्तक पढ़ी।";
    const stacked = "q\u0307\u0323 x\u0360y \u0301standalone-mark-on-a-space";
    const text = Array.from({ length: 20 }, (_, i) => `${arabic} ${i}. ${devanagari} ${stacked}`).join(" ");
    for (const maxChars of [5, 9, 23, 60]) {
      const options = { maxChars, overlapChars: 8 };
      const chunks = chunkText(text, options);
      expectWellFormed(chunks, options);
      expect(brokenGraphemes(chunks, text)).toEqual([]);
      for (const chunk of chunks) expect(chunk).not.toMatch(/^[\p{M}\u200D]/u);
    }
  });

  it("normalises, then measures, so every chunk is already NFC", () => {
    const text = "Re\u0301sume\u0301 of the e\u0301le\u0300ve. ".repeat(200);
    const chunks = chunkText(text, { maxChars: 100, overlapChars: 30 });
    for (const chunk of chunks) {
      expect(chunk).toBe(chunk.normalize("NFC"));
      expect(chunk.length).toBeLessThanOrEqual(100);
    }
  });
});

describe("chunkText: custom options", () => {
  const sentences = Array.from({ length: 30 }, (_, i) => `Probe ${String(i).padStart(2, "0")} was fine.`);
  const text = sentences.join(" ");

  it("honours a small maxChars and overlapChars", () => {
    const options = { maxChars: 60, overlapChars: 25 };
    const chunks = chunkText(text, options);
    expectWellFormed(chunks, options);
    // 20-character sentences: two new ones per 60-character window after one of overlap.
    expect(chunks.length).toBe(15);
    expect(chunks[0]).toBe("Probe 00 was fine. Probe 01 was fine. Probe 02 was fine.");
    expect(chunks[1]).toBe("Probe 02 was fine. Probe 03 was fine. Probe 04 was fine.");
    for (let i = 0; i + 1 < chunks.length; i++) {
      expect(overlapLength(chunks[i]!, chunks[i + 1]!)).toBe(sentences[0]!.length);
    }
  });

  it("has no overlap with overlapChars 0: the chunks partition the text", () => {
    const options = { maxChars: 45, overlapChars: 0 };
    const chunks = chunkText(text, options);
    expectWellFormed(chunks, options);
    expect(chunks).toHaveLength(15);
    expect(chunks.join(" ")).toBe(text);
  });

  it("still makes progress when overlapChars is not smaller than maxChars", () => {
    const options = { maxChars: 40, overlapChars: 1_000 };
    const chunks = chunkText(text, options);
    expectWellFormed(chunks, options);
    expect(chunks.length).toBeLessThanOrEqual(sentences.length);
    expect(chunks[0]!.startsWith(sentences[0]!)).toBe(true);
    expect(chunks.at(-1)!.endsWith(sentences.at(-1)!)).toBe(true);
    for (const sentence of sentences) expect(chunks.some((c) => c.includes(sentence))).toBe(true);
  });

  it("uses the documented defaults", () => {
    expect(DEFAULT_CHUNKING).toEqual({ maxChars: 1200, overlapChars: 200 });
    const text = varietySentences(200, 7).join(" ");
    expect(chunkText(text)).toEqual(chunkText(text, { maxChars: 1200, overlapChars: 200 }));
  });
});
