/**
 * Deterministic "embeddings" served by the Gemini SIMULATOR (not a real model).
 *
 * A hashed bag of words: texts that share words (or word stems, or word pairs) get a
 * higher cosine similarity, which is enough for retrieval tests and the offline demo.
 */

const STOPWORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its " +
    "me my no not of on or our she so than that the their them then there these they this those to too us was we were " +
    "what when where which who will with would you your"
  ).split(" "),
);

const SUFFIXES = ["ingly", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly"];
const WORD_WEIGHT = 0.5;
const STEM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.35;

/** 32-bit FNV-1a hash of a string (UTF-16 code units), as an unsigned integer. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Lowercased Unicode words of `text`, without stopwords. */
export function contentWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((word) => !STOPWORDS.has(word));
}

/** Naive suffix stripping so "reads", "reading" and "read" share a stem. */
export function naiveStem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 3 && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      return suffix === "ies" ? `${stem}y` : stem;
    }
  }
  return word;
}

function addFeature(vector: number[], feature: string, weight: number): void {
  const hash = fnv1a(feature);
  const index = hash % vector.length;
  const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1;
  vector[index] = (vector[index] ?? 0) + sign * weight;
}

function normalise(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  if (norm === 0 || !Number.isFinite(norm)) {
    return unitVector(vector.length);
  }
  return vector.map((value) => value / norm);
}

function unitVector(dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  vector[0] = 1;
  return vector;
}

/**
 * The deterministic embedding the simulator serves for `text`: L2-normalised, `dimensions` long.
 * Empty or stopword-only text yields a fixed unit vector (never NaN).
 */
export function simulatedEmbedding(text: string, dimensions: number): number[] {
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  const vector = new Array<number>(dimensions).fill(0);
  const words = contentWords(text);
  const stems = words.map(naiveStem);
  words.forEach((word, index) => {
    addFeature(vector, `stem:${stems[index]}`, STEM_WEIGHT);
    addFeature(vector, `word:${word}`, WORD_WEIGHT);
  });
  for (let index = 1; index < stems.length; index++) {
    addFeature(vector, `pair:${stems[index - 1]} ${stems[index]}`, BIGRAM_WEIGHT);
  }
  return normalise(vector);
}
