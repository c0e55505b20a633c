/**
 * Reads an iepgen IEP prompt (src/iep/prompt.ts) back into data for the Gemini simulator's IEP
 * drafts: the student block, the IEP period and the evidence excerpts, and picks the sentences of
 * an excerpt worth quoting (the ones with data: scores, percentages, rates).
 *
 * Parsing is lenient: a prompt that is not quite iepgen's still gives usable (if sparser) facts.
 */

export interface Excerpt {
  /** Lowercased chunk id, as cited. */
  id: string;
  /** Evidence title ("" when the prompt gives none). */
  title: string;
  /** Evidence kind as an enum value, e.g. "PROGRESS_NOTE" ("OTHER" when the prompt gives none). */
  kind: string;
  /** The excerpt's text, whitespace as in the prompt. */
  text: string;
}

export interface IepRequestFacts {
  firstName: string;
  age: number | undefined;
  grade: string;
  /** Enum values, e.g. "SPECIFIC_LEARNING_DISABILITY". */
  categories: string[];
  language: string;
  period: { startDate: string; endDate: string };
  excerpts: Excerpt[];
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** "chunk: <id>" (iepgen) or "[chunk: <id>]" / "chunk=<id>" (other prompts); the id is captured. */
const CHUNK_MARKER = new RegExp(`[[(]?[ \\t]*chunk[:= ][ \\t]*(${UUID})[ \\t]*[\\])]?`, "gi");
/** The rest of iepgen's chunk line: ` — "<title>" (<kind, humanized>)`. */
const CHUNK_HEADER_REST = /^[ \t]*[—–-][ \t]*"(.*)"[ \t]*\(([^()\n]*)\)[ \t]*(?:\n|$)/;
/** Blocks iepgen puts after the evidence list: never part of the last excerpt. */
const AFTER_EVIDENCE = /\n[ \t]*(?:The current IEP (?:content|draft)|Additional instructions from the IEP team)\b/;
const ISO_DATE = /\b\d{4}-\d{2}-\d{2}\b/g;
/** Used when neither the instructions nor the prompt give a date: a fixed (deterministic) period. */
const FALLBACK_PERIOD = { startDate: "2026-08-15", endDate: "2027-08-14" } as const;

export function readIepRequest(systemText: string, promptText: string): IepRequestFacts {
  const field = (label: string): string | undefined =>
    new RegExp(`^[ \\t]*-[ \\t]*${label}:[ \\t]*(.+)$`, "im").exec(promptText)?.[1]?.trim();
  const categories = field("Disability categories");
  const age = Number(field("Age at the start of the IEP")?.match(/\d+/)?.[0]);
  return {
    firstName: field("First name") || "The student",
    age: Number.isFinite(age) ? age : undefined,
    grade: field("Grade") ?? "",
    categories:
      !categories || /^none\b/i.test(categories) ? [] : categories.split(",").map(enumValue).filter((value) => value !== ""),
    language: field("Primary language") ?? "English",
    period: periodIn(systemText, promptText),
    excerpts: excerptsIn(promptText),
  };
}

/** The IEP period: from the instructions' rules line, else the prompt's period line, else the dates mentioned. */
function periodIn(systemText: string, promptText: string): { startDate: string; endDate: string } {
  const range = /IEP period[^\n(]*?\(?(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})/;
  const stated = range.exec(systemText) ?? range.exec(promptText);
  if (stated?.[1] && stated[2] && stated[1] <= stated[2]) return { startDate: stated[1], endDate: stated[2] };
  const dates = [...new Set(systemText.match(ISO_DATE) ?? promptText.match(ISO_DATE) ?? [])].sort();
  const [first, last] = [dates[0], dates.at(-1)];
  return first && last ? { startDate: first, endDate: last } : { ...FALLBACK_PERIOD };
}

/** The evidence excerpts, in prompt order, one per chunk id (the first block wins). */
function excerptsIn(promptText: string): Excerpt[] {
  const firstMarker = promptText.search(CHUNK_MARKER);
  if (firstMarker < 0) return [];
  const evidence = promptText.slice(0, firstMarker) + promptText.slice(firstMarker).split(AFTER_EVIDENCE)[0];
  const parts = evidence.split(CHUNK_MARKER);
  const excerpts = new Map<string, Excerpt>();
  for (let index = 1; index + 1 < parts.length; index += 2) {
    const id = (parts[index] ?? "").toLowerCase();
    let body = parts[index + 1] ?? "";
    const header = CHUNK_HEADER_REST.exec(body);
    if (header) body = body.slice(header[0].length);
    if (!excerpts.has(id)) {
      excerpts.set(id, { id, title: (header?.[1] ?? "").trim(), kind: enumValue(header?.[2] ?? "") || "OTHER", text: body.trim() });
    }
  }
  return [...excerpts.values()];
}

/** "progress note" → "PROGRESS_NOTE"; "speech or language impairment" → "SPEECH_OR_LANGUAGE_IMPAIRMENT". */
function enumValue(humanized: string): string {
  return humanized.trim().toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
}

const SENTENCE_SEGMENTER = new Intl.Segmenter("en", { granularity: "sentence" });

/**
 * The sentences of a text, whitespace collapsed (each is a verbatim piece of the text once its
 * whitespace is collapsed). Paragraphs and list items are separate; a leading list marker is dropped.
 */
export function sentencesOf(text: string): string[] {
  return text
    .split(/\n[ \t]*\n|\n(?=[ \t]*(?:[-*•]|\d+[.)])[ \t])/)
    .map((block) => block.replace(/\s+/g, " ").trim())
    .flatMap((block) => Array.from(SENTENCE_SEGMENTER.segment(block), (segment) => segment.segment.trim()))
    .map((sentence) => sentence.replace(/^(?:[-*•]|\d+[.)])\s+/, ""))
    .filter((sentence) => sentence.length >= 8 && /\p{L}/u.test(sentence));
}

const PERCENT = /\d+(?:\.\d+)?\s?%/g;
const DATA_WORDS =
  /words? (?:correct )?per minute|\bwcpm\b|per minute|standard score|scaled score|percentile|\bindex\b|\biq\b|composite|quotient|accuracy|intervals|trials|opportunities|out of|\b\d+ of \d+\b|\bscore|\blevel\b|minutes|\bgrade[- ]level|baseline|correct/i;
const DATE_LIKE =
  /\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s+\d{1,2}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\/\d{1,2}\/\d{2,4}\b|\b\d{1,2}:\d{2}\b/i;
const YEAR = /^(?:19|20)\d{2}$/;
/** Cognitive-profile scores: real data, but poor baselines for present levels or goals. */
const COGNITIVE_INDEX = /\b(?:verbal comprehension|visual spatial|fluid reasoning|working memory|processing speed) index|full scale iq/i;
/** Plans and recommendations (a prior goal, a placement) rather than current performance. */
const NOT_CURRENT_PERFORMANCE = /\bwill\b|\bmust\b|\bshould\b|least restrictive|recommend|annual goals?:/i;
const LONG_SENTENCE_CHARS = 280;

/** How much a sentence reads like current data (scores, percentages, rates); 0 when it has no numbers besides years. */
export function dataScore(sentence: string): number {
  const numbers = (sentence.match(/\d+(?:\.\d+)?/g) ?? []).filter((number) => !YEAR.test(number));
  if (numbers.length === 0) return 0;
  let score = 1 + Math.min(numbers.length, 3);
  score += 3 * Math.min((sentence.match(PERCENT) ?? []).length, 2);
  if (DATA_WORDS.test(sentence)) score += 3;
  if (/baseline/i.test(sentence)) score += 1;
  if (COGNITIVE_INDEX.test(sentence)) score -= 4;
  if (NOT_CURRENT_PERFORMANCE.test(sentence)) score -= 3;
  if (/comparison|\bpeers?\b|classmates?/i.test(sentence)) score -= 2;
  if (DATE_LIKE.test(sentence)) score -= 3;
  if (/:\s*$/.test(sentence)) score -= 3;
  if (sentence.includes('"')) score -= 1;
  if (sentence.length > LONG_SENTENCE_CHARS) score -= 4;
  else if (sentence.length > LONG_SENTENCE_CHARS * 0.7) score -= 2;
  return Math.max(score, 0);
}

/** The excerpt's sentence that best reads as data (the earliest among equals), if any has numbers. */
export function bestDataSentence(excerpt: Excerpt): string | undefined {
  let best: { sentence: string; score: number } | undefined;
  for (const sentence of sentencesOf(excerpt.text)) {
    const score = dataScore(sentence);
    if (score > 0 && (!best || score > best.score)) best = { sentence, score };
  }
  return best?.sentence;
}

/** The excerpt's first sentence (for excerpts without data), or its text cut at a word when it has no sentence. */
export function firstSentence(excerpt: Excerpt): string {
  const first = sentencesOf(excerpt.text).find((sentence) => sentence.length <= LONG_SENTENCE_CHARS) ?? sentencesOf(excerpt.text)[0];
  if (first) return first;
  const flat = excerpt.text.replace(/\s+/g, " ").trim();
  return flat === "" ? "(no text)" : flat;
}

/** Excerpts about life after school (interest inventories, career or independent-living plans). */
export function isTransitionExcerpt(excerpt: Excerpt): boolean {
  return /transition|career|vocation|post-?secondary|interest/i.test(excerpt.title) ||
    /interest inventory|career interest|vocational|post-?secondary|after (?:high school|graduation)|transition (?:assessment|planning)/i.test(excerpt.text);
}

const ACADEMIC_KINDS = new Set(["EVALUATION", "ASSESSMENT", "PROGRESS_NOTE", "PRIOR_IEP"]);

/** Academic-achievement evidence (evaluations, assessments, progress notes, prior IEPs) vs functional (observations, parent input, other). */
export function isAcademicExcerpt(excerpt: Excerpt): boolean {
  return ACADEMIC_KINDS.has(excerpt.kind) && !isTransitionExcerpt(excerpt);
}

/** "TEACHER_OBSERVATION" → "teacher observation"; "PRIOR_IEP" → "prior IEP"; "OTHER" → "evidence". */
export function kindLabel(kind: string): string {
  if (kind === "OTHER") return "evidence";
  return kind.toLowerCase().replace(/_/g, " ").replace(/\biep\b/, "IEP") || "evidence";
}

/** Where a quote comes from, e.g. `the progress note "Reading fluency progress"`. */
export function sourceOf(excerpt: Excerpt): string {
  return excerpt.title ? `the ${kindLabel(excerpt.kind)} "${excerpt.title}"` : `the ${kindLabel(excerpt.kind)} excerpt`;
}
