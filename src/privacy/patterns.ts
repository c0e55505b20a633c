/**
 * Detectors for identifiers that are found by their shape rather than from the record: emails,
 * phone numbers (libphonenumber-js, plus a North American fallback), student/state ids, street
 * addresses and dates. Each returns spans of the text with a `key` that is the same for every
 * spelling of one value (a phone's E.164 number, a lowercased email), so one value always gets
 * one placeholder.
 */
import { findPhoneNumbersInText, parsePhoneNumberFromString } from "libphonenumber-js/max";

export type PatternKind = "email" | "phone" | "id" | "address";

/** A piece of text that holds an identifier: [start, end) and the value's identity. */
export interface Span {
  start: number;
  end: number;
  key: string;
}

/** A date written in the text; `readings` holds each calendar date it can mean (03/01 is March 1 or 3 January). */
export interface FoundDate extends Span {
  readings: { year: number; month: number; day?: number }[];
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** A placeholder the Pseudonymizer hands out, e.g. `[STUDENT]`, `[GUARDIAN_1_LAST]`, `[PHONE_2]`, `[DATE_OF_BIRTH]`. */
export const PLACEHOLDER = /\[(?:STUDENT|DATE_OF_BIRTH|(?:GUARDIAN|STAFF|EMAIL|PHONE|ID|ADDRESS|DATE)_\d+)(?:_[A-Z0-9_]+)?\]/g;

/** Spans never to be replaced: chunk ids (the model cites them) and placeholders already in the text. */
export function protectedSpans(text: string): Span[] {
  return [...spansOf(text, UUID, () => "uuid"), ...spansOf(text, PLACEHOLDER, () => "placeholder")];
}

const EMAIL = /[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;

export function findEmails(text: string): Span[] {
  return text.includes("@") ? spansOf(text, EMAIL, emailKey) : [];
}

export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/** (503) 555-0142, 503.555.0142, +1 503 555 0142: the shape of a North American number, valid or not. */
const NANP = /(?<![\d-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]\d{4}(?![\d-])/g;

const DATE_SHAPE = /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/;
/** Runs of digits and phone punctuation with at least seven digits: where a phone number can be. */
const PHONE_CANDIDATE = /\+?\(?\d[\d\s().\-\u00a0]{5,24}\d/g;

/**
 * Phone numbers: libphonenumber-js (valid numbers in any country's format, US by default) run on
 * the digit runs that can hold one (it is slow on long text), plus North American shapes it
 * rejects as invalid.
 */
export function findPhones(text: string, defaultCountry: "US" = "US"): Span[] {
  const found: Span[] = [];
  for (const candidate of text.matchAll(PHONE_CANDIDATE)) {
    if ((candidate[0].match(/\d/g) ?? []).length < 7 || DATE_SHAPE.test(candidate[0].trim())) continue;
    const offset = candidate.index;
    for (const match of findPhoneNumbersInText(candidate[0], defaultCountry)) {
      found.push({ start: offset + match.startsAt, end: offset + match.endsAt, key: match.number.number as string });
    }
  }
  return [...found, ...spansOf(text, NANP, (value) => `+1${value.replace(/\D/g, "").slice(-10)}`)];
}

/** The E.164 form of a phone number (US when it has no country code), or undefined if it is not one. */
export function phoneKey(phone: string): string | undefined {
  const parsed = parsePhoneNumberFromString(phone, "US");
  if (parsed?.isPossible()) return parsed.number as string;
  const digits = phone.replace(/\D/g, "");
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith("1")) return `+${digits}`;
  return undefined;
}

const ID_LABEL =
  /\b(?:student|state|district|local|school|medicaid|medical|patient|case|lunch|testing|social\s+security|sasid|ssid|lasid|nsid|ssn|mrn|id)(?:\s*(?:id|identifier|number|no\.?|num|#))?\s*(?:[:#=]|is)?\s*#?\s*([A-Z0-9][A-Z0-9-]{3,}[A-Z0-9])\b/dgi;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
/** S-20391847, ST20391847, AB-123456: a short uppercase prefix and six or more digits. */
const PREFIXED_ID = /\b[A-Z]{1,4}-?\d{6,}\b/g;

/** Ids: labelled ("Student ID: 4471", "SASID 20391847"), SSNs and prefixed numbers like S-20391847. */
export function findIds(text: string): Span[] {
  const labelled: Span[] = [];
  for (const match of text.matchAll(ID_LABEL)) {
    const [start, end] = match.indices![1]!;
    const value = match[1]!;
    if (looksLikeId(value)) labelled.push({ start, end, key: idKey(value) });
  }
  return [...labelled, ...spansOf(text, SSN, idKey), ...spansOf(text, PREFIXED_ID, idKey)];
}

/** At least four digits, and not a year range or an ISO date ("school 2025-2026" is no id). */
function looksLikeId(value: string): boolean {
  return (value.match(/\d/g) ?? []).length >= 4 && !/^(?:19|20)\d{2}-(?:(?:19|20)?\d{2}|\d{2}-\d{2})$/.test(value);
}

const LONG_NUMBER = /(?<![\d.,-])\d{7,}(?![\d.,-])/g;

/** Bare runs of seven or more digits (ids, account or phone numbers written without separators). */
export function findLongNumbers(text: string): Span[] {
  return spansOf(text, LONG_NUMBER, idKey);
}

function idKey(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]/g, "");
}

const STREET_TYPES = anyCase(
  "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|circle|cir|parkway|pkwy|highway|hwy|trail|trl|square|sq|loop|row|crescent|close",
);
const NAME_WORD = "(?:\\p{Lu}[\\p{L}'’.-]*|\\d+(?:st|nd|rd|th))";
const STREET = `\\b\\d{1,6}[A-Za-z]?\\s+(?:[NSEW]\\.?\\s+)?(?:${NAME_WORD}\\s+){1,4}(?:${STREET_TYPES})\\b\\.?`;
const UNIT = `(?:,?\\s*(?:${anyCase("apt|apartment|unit|suite|ste")}|#)\\.?\\s*#?[\\p{L}\\p{N}-]+)?`;
const CITY_STATE_ZIP = "(?:,\\s*(?:\\p{Lu}[\\p{L}.'-]*\\s?){1,3},?\\s+[A-Z]{2}(?:\\s+\\d{5}(?:-\\d{4})?)?)?";
const ADDRESS = new RegExp(`${STREET}${UNIT}${CITY_STATE_ZIP}`, "gu");
const PO_BOX = /\bP\.?\s?O\.?\s+Box\s+\d+\b/gi;

/** Street addresses with a capitalised street name ("42 Larkspur Lane, Apt 3, Portland, OR 97214") and PO boxes. */
export function findAddresses(text: string): Span[] {
  return [...spansOf(text, ADDRESS, addressKey), ...spansOf(text, PO_BOX, addressKey)];
}

/** "lane|st" → "lane|Lane|LANE|st|St|ST" (the words in lower, title and upper case only). */
function anyCase(words: string): string {
  return words.split("|").flatMap((w) => [w, w[0]!.toUpperCase() + w.slice(1), w.toUpperCase()]).join("|");
}

export function addressKey(address: string): string {
  return address.split(",")[0]!.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

const MONTHS = [
  "jan(?:uary)?", "feb(?:ruary)?", "mar(?:ch)?", "apr(?:il)?", "may", "june?", "july?", "aug(?:ust)?",
  "sep(?:t(?:ember)?)?", "oct(?:ober)?", "nov(?:ember)?", "dec(?:ember)?",
];
const MONTH = `(${MONTHS.join("|")})`;
const ORDINAL = "(?:st|nd|rd|th)?";
const Y_M_D = /\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b/g;
const A_B_Y = /\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b/g;
const MONTH_D_Y = new RegExp(`\\b${MONTH}\\.?\\s+(\\d{1,2})${ORDINAL},?\\s+(\\d{4})\\b`, "gi");
const D_MONTH_Y = new RegExp(`\\b(\\d{1,2})${ORDINAL}\\s+(?:of\\s+)?${MONTH}\\.?,?\\s+(\\d{4})\\b`, "gi");
const MONTH_Y = new RegExp(`\\b${MONTH}\\.?,?\\s+(\\d{4})\\b`, "gi");

/**
 * Dates in the usual written forms: 2016-03-01, 2016/3/1, 03/01/2016, 3-1-16, 01.03.2016, March 1,
 * 2016, Mar. 1st 2016, 1 March 2016, the 1st of March 2016, and (month only) March 2016.
 */
export function findDates(text: string): FoundDate[] {
  const found: FoundDate[] = [];
  const add = (match: RegExpMatchArray, readings: FoundDate["readings"]) => {
    const valid = readings.filter(isCalendarDate);
    if (valid.length > 0) found.push({ start: match.index!, end: match.index! + match[0].length, key: match[0], readings: valid });
  };
  for (const m of text.matchAll(Y_M_D)) add(m, [{ year: +m[1]!, month: +m[2]!, day: +m[3]! }]);
  for (const m of text.matchAll(A_B_Y)) {
    const year = fullYear(m[3]!);
    add(m, [{ year, month: +m[1]!, day: +m[2]! }, { year, month: +m[2]!, day: +m[1]! }]);
  }
  for (const m of text.matchAll(MONTH_D_Y)) add(m, [{ year: +m[3]!, month: monthNumber(m[1]!), day: +m[2]! }]);
  for (const m of text.matchAll(D_MONTH_Y)) add(m, [{ year: +m[3]!, month: monthNumber(m[2]!), day: +m[1]! }]);
  for (const m of text.matchAll(MONTH_Y)) add(m, [{ year: +m[2]!, month: monthNumber(m[1]!) }]);
  return found;
}

const BIRTH_CONTEXT =
  /(?:\bborn\b|\bbirth\s?(?:day|date)\b|\bdate\s+of\s+birth\b|\bd\.?\s?o\.?\s?b\b\.?)\s*(?:[:\-–=(]|\bon\b|\bin\b|\bis\b|\bwas\b)?\s*$/i;

/** True when the words just before `start` say a birth date follows ("DOB:", "born on", "date of birth"). */
export function followsBirthLabel(text: string, start: number): boolean {
  return BIRTH_CONTEXT.test(text.slice(Math.max(0, start - 40), start));
}

function monthNumber(name: string): number {
  const lower = name.toLowerCase();
  return MONTHS.findIndex((pattern) => new RegExp(`^${pattern}$`).test(lower)) + 1;
}

function fullYear(year: string): number {
  if (year.length === 4) return Number(year);
  const twoDigits = Number(year);
  return twoDigits <= new Date().getUTCFullYear() % 100 ? 2000 + twoDigits : 1900 + twoDigits;
}

function isCalendarDate(date: { year: number; month: number; day?: number }): boolean {
  if (date.month < 1 || date.month > 12 || date.year < 1900 || date.year > 2100) return false;
  if (date.day === undefined) return true;
  return date.day >= 1 && date.day <= new Date(Date.UTC(date.year, date.month, 0)).getUTCDate();
}

function spansOf(text: string, pattern: RegExp, key: (value: string) => string): Span[] {
  return Array.from(text.matchAll(pattern), (match) => ({ start: match.index, end: match.index + match[0].length, key: key(match[0]) }));
}
