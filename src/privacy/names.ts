/**
 * Finds the names of people known to the record (the student, guardians, staff) in free text, by
 * dictionary: whole words only (so "Ada" is found in "Ada's" but not in "Adams" or "Canada"),
 * case-insensitively, across spacing, hyphen and apostrophe variants, with and without accents.
 *
 * A single name part that is also an everyday English word ("Will", "May", "Grace", "Case") is
 * matched only as written in the record or Capitalised, and one of three letters or fewer ("Ada")
 * also in capitals unless that spells a school acronym, so "will", "may" and "ADA accommodations"
 * stay as they are.
 */
import type { Span } from "./patterns.ts";

/** One name to find and the placeholder label it gets, e.g. { name: "Octavian Quillfeather", label: "GUARDIAN_1" }. */
export interface NameEntry {
  name: string;
  label: string;
}

const PARTICLES = new Set(["de", "del", "della", "der", "den", "di", "da", "du", "la", "le", "van", "von", "bin", "ibn", "al", "el", "st", "y"]);
const HONORIFICS = new Set(["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "jr", "sr", "ii", "iii", "iv", "phd", "edd", "med", "bcba", "slp", "ccc", "otr", "pt", "rn"]);

/**
 * Everyday words that are also given names or surnames. A name part in this list is matched only
 * Capitalised or as written, never in lower case.
 */
const COMMON_WORDS = new Set(`
  will may june april august summer autumn winter grace hope faith joy rose lily iris ivy dawn sky star
  sunny storm rain river brook lake hunter chase drew mark bill art guy ray pat sue rich frank earl dean
  don jack gene rob miles king young long white black brown green gray grey little bell hall wood woods
  hill park lane price cook baker mason bishop page ward wells rivers north west east south best love
  case field fields reading fisher walker carter parker turner cooper porter archer sterling golden
  penny ruby pearl amber jade crystal honey berry cherry olive hazel daisy poppy violet heather holly
  ginger candy destiny harmony melody unity mercy patience prudence charity noble royal prince duke baron
  major banks cash hart heart stone rock rocky cliff dale glen forest bush marsh moss reed snow frost day
  knight friend good bright small short strong swift wise french english welsh irish angel precious sage
  basil rue cole gold silver steel iron bond hardy
  test user demo staff teacher student admin manager school team class grade level parent guardian
  mother father aunt uncle sister brother nurse coach counselor principal
`.split(/\s+/).filter(Boolean));

/** The words of a person's name: parenthesised notes, honorifics and stray punctuation removed. */
export function nameParts(name: string): string[] {
  return name
    .normalize("NFC")
    .replace(/\([^)]*\)|\[[^\]]*\]/g, " ")
    .split(/[\s,]+/)
    .map((part) => part.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""))
    .filter((part) => part !== "" && !HONORIFICS.has(part.toLowerCase().replace(/\./g, "")));
}

/** The single words of a name worth finding on their own (hyphenated parts too; particles skipped). */
export function nameTokens(name: string): string[] {
  const tokens = nameParts(name).flatMap((part) => (part.includes("-") ? [part, ...part.split("-")] : [part]));
  return tokens.filter((token) => /\p{L}/u.test(token) && [...token].length >= 2 && !PARTICLES.has(token.toLowerCase()));
}

/** Acronyms of special education that are also short names. */
const ACRONYMS = new Set(["ADA", "IEP", "ELL", "ESL", "ELD", "OT", "PT", "SLP", "SLD", "ASD", "BIP", "FBA", "LRE", "ESY", "IQ", "RTI", "GPA", "ACT", "SAT", "DOB", "ED", "ID", "OHI", "TBI", "VI", "HI", "DD", "MD", "EBD", "ABA", "AAC", "IDEA", "FAPE", "IEE", "PLOP", "ELA", "SPED", "GED", "ADD", "CAT", "PAL", "MAP", "ART", "PE", "AL", "EL", "ASL", "CC"]);

/** Lower case, NFC: how a word of a name is compared. */
export function nameKey(word: string): string {
  return word.normalize("NFC").toLowerCase();
}

/** Letters that do not decompose into a base letter and an accent. */
const FOLDED: Record<string, string> = { ø: "o", Ø: "O", æ: "ae", Æ: "Ae", œ: "oe", Œ: "Oe", ß: "ss", đ: "d", Đ: "D", ł: "l", Ł: "L", ð: "d", Ð: "D", þ: "th", Þ: "Th", ı: "i" };

/** "Ñúñez-Ødegård" → "Nunez-Odegard": how a name is often typed without its accents. */
function stripAccents(name: string): string {
  return name.normalize("NFD").replace(/\p{M}/gu, "").replace(/[øØæÆœŒßđĐłŁðÐþÞı]/g, (c) => FOLDED[c]!).normalize("NFC");
}

/**
 * A word of text: letters, marks and digits ("Ada" in "Ada's" is a word, "Adams" is another, and so
 * are both names in a file name like "Ada_Lin_eval.pdf").
 */
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
/** What may stand between two words of a name written with a space, a hyphen or an apostrophe. */
const GAPS = { " ": /^[\s\u00a0]+$/, "-": /^(?:[-‐‑–]|[\s\u00a0]+)$/, "'": /^['’ʼ]$/ } as const;
/** Scripts written without spaces between words: names in them are found anywhere. */
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

interface CompiledName {
  label: string;
  /** Lower-cased words, and the separator before each word after the first. */
  words: string[];
  gaps: (keyof typeof GAPS)[];
  /** For a name matched only as written or Capitalised: those spellings. */
  spellings?: ReadonlySet<string>;
}

/**
 * A finder for the entries (earlier entries win when two share a name). It walks the words of the
 * text once and looks each up, so it stays fast with hundreds of staff names.
 */
export function createNameFinder(entries: readonly NameEntry[]): { find(text: string): Span[] } {
  const seen = new Set<string>();
  const byFirstWord = new Map<string, CompiledName[]>();
  const unspaced: { spelling: string; label: string }[] = [];
  for (const entry of entries) {
    const name = nameParts(entry.name).join(" ");
    for (const spelling of new Set([name, stripAccents(name)])) {
      const key = nameKey(spelling);
      if (name === "" || seen.has(key)) continue;
      seen.add(key);
      if (UNSPACED_SCRIPT.test(spelling)) unspaced.push({ spelling, label: entry.label });
      else add(byFirstWord, compileName(spelling, entry.label));
    }
  }
  for (const list of byFirstWord.values()) list.sort((a, b) => b.words.length - a.words.length);
  return {
    find(text) {
      const words = Array.from(text.matchAll(WORD), (m) => ({ start: m.index, end: m.index + m[0].length, text: m[0] }));
      const spans: Span[] = [];
      for (let i = 0; i < words.length; i++) {
        const match = byFirstWord.get(nameKey(words[i]!.text))?.find((name) => matchesAt(text, words, i, name));
        if (match) spans.push({ start: words[i]!.start, end: words[i + match.words.length - 1]!.end, key: match.label });
      }
      for (const { spelling, label } of unspaced) {
        for (let at = text.indexOf(spelling); at >= 0; at = text.indexOf(spelling, at + spelling.length)) {
          spans.push({ start: at, end: at + spelling.length, key: label });
        }
      }
      return spans;
    },
  };
}

function compileName(spelling: string, label: string): CompiledName {
  const words: string[] = [];
  const gaps: (keyof typeof GAPS)[] = [];
  for (const part of spelling.split(/([ '’ʼ-])/)) {
    if (part === " " || part === "-") gaps.push(part);
    else if (part === "'" || part === "’" || part === "ʼ") gaps.push("'");
    else if (part !== "") words.push(nameKey(part));
  }
  return { label, words, gaps, ...(words.length === 1 ? strictSpellings(spelling) : {}) };
}

/**
 * A one-word name that is also an everyday word is found only as written or Capitalised; one of
 * three letters or fewer also in capitals, unless that is a common school acronym ("ADA", "IEP").
 */
function strictSpellings(word: string): { spellings?: ReadonlySet<string> } {
  if (COMMON_WORDS.has(word.toLowerCase())) return { spellings: new Set([word, capitalised(word)]) };
  if ([...word].length > 3) return {};
  const upper = word.toUpperCase();
  return { spellings: new Set([word, capitalised(word), ...(ACRONYMS.has(upper) ? [] : [upper])]) };
}

function matchesAt(text: string, words: readonly { start: number; end: number; text: string }[], i: number, name: CompiledName): boolean {
  if (name.spellings && !name.spellings.has(words[i]!.text)) return false;
  for (let k = 1; k < name.words.length; k++) {
    const word = words[i + k];
    if (!word || nameKey(word.text) !== name.words[k]) return false;
    if (!GAPS[name.gaps[k - 1]!].test(text.slice(words[i + k - 1]!.end, word.start))) return false;
  }
  return true;
}

function add(map: Map<string, CompiledName[]>, name: CompiledName): void {
  const list = map.get(name.words[0]!) ?? [];
  list.push(name);
  map.set(name.words[0]!, list);
}

function capitalised(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1).toLowerCase();
}
