/**
 * Replaces what identifies a student with placeholders before text goes to Gemini, and puts the
 * real values back into what Gemini answers.
 *
 * Replaced: the names of the student ([STUDENT], [STUDENT_LAST]), guardians ([GUARDIAN_1], and
 * [GUARDIAN_1_FIRST] / [GUARDIAN_1_LAST] for a part used alone) and staff ([STAFF_1], …), by
 * dictionary from the record; the date of birth in any common format ([DATE_OF_BIRTH]) and any
 * other date written as a birth date ([DATE_1]); emails, phone numbers, student/state ids and
 * street addresses by their shape ([EMAIL_1], [PHONE_1], [ID_1], [ADDRESS_1]). Chunk ids (UUIDs)
 * and placeholders already in the text are left alone, so masking twice changes nothing.
 *
 * Placeholders are stable: within one Pseudonymizer the same value always gets the same one
 * (phones by their E.164 number, emails case-insensitively), so one generation or one ingestion
 * uses one instance for all its requests.
 */
import { createNameFinder, nameParts, nameTokens, type NameEntry } from "./names.ts";
import {
  addressKey, emailKey, findAddresses, findDates, findEmails, findIds, findLongNumbers, findPhones, followsBirthLabel,
  phoneKey, protectedSpans, type FoundDate, type Span,
} from "./patterns.ts";

/** A guardian as the pseudonymizer needs it. */
export interface PrivacyGuardian {
  name: string;
  email?: string | null;
  phone?: string | null;
  address?: string | null;
}

/** What is known about the people around one student; everything is optional. */
export interface PrivacyRecord {
  student?: { firstName: string; lastName: string; dateOfBirth: string };
  guardians?: readonly PrivacyGuardian[];
  /** Names of the school's staff (its users). */
  staffNames?: readonly string[];
}

const PLACEHOLDER_IN_OUTPUT = /\[([A-Za-z][A-Za-z0-9_]*)\]/g;

export class Pseudonymizer {
  private readonly names: ReturnType<typeof createNameFinder>;
  private readonly byKey = new Map<string, string>();
  private readonly values = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private readonly dateOfBirth: { year: number; month: number; day: number } | undefined;

  constructor(record: PrivacyRecord = {}) {
    const addresses = this.registerContacts(record.guardians ?? []);
    const entries = [...nameEntries(record), ...addresses];
    this.names = createNameFinder(entries);
    for (const entry of entries) {
      const placeholder = `[${entry.label}]`;
      if (!this.values.has(placeholder)) this.values.set(placeholder, nameParts(entry.name).join(" "));
    }
    const [year, month, day] = (record.student?.dateOfBirth ?? "").split("-").map(Number);
    this.dateOfBirth = year && month && day ? { year, month, day } : undefined;
  }

  /** The text with every identifier found replaced by its placeholder (NFC-normalised). */
  mask(input: string): string {
    const text = input.normalize("NFC");
    const taken = new Uint8Array(text.length);
    const replacements: { start: number; end: number; placeholder: string }[] = [];
    const take = (spans: readonly Span[], placeholderOf: (span: Span) => string | undefined) => {
      for (const span of [...spans].sort((a, b) => a.start - b.start || b.end - a.end)) {
        if (taken.subarray(span.start, span.end).includes(1)) continue;
        const placeholder = placeholderOf(span);
        if (placeholder === undefined) continue;
        taken.fill(1, span.start, span.end);
        if (placeholder !== "") replacements.push({ ...span, placeholder });
      }
    };
    take(protectedSpans(text), () => "");
    take(findEmails(text), (s) => this.placeholder("email", s.key, "EMAIL", text.slice(s.start, s.end)));
    take(findAddresses(text), (s) => this.placeholder("address", s.key, "ADDRESS", text.slice(s.start, s.end)));
    take(findDates(text), (s) => this.datePlaceholder(text, s as FoundDate));
    take(this.names.find(text), (s) => `[${s.key}]`);
    take(findIds(text), (s) => this.placeholder("id", s.key, "ID", text.slice(s.start, s.end)));
    take(findPhones(text), (s) => this.placeholder("phone", s.key, "PHONE", text.slice(s.start, s.end)));
    take(findLongNumbers(text), (s) => this.placeholder("id", s.key, "ID", text.slice(s.start, s.end)));
    return splice(text, replacements);
  }

  /** The text with every placeholder this instance handed out replaced by its real value. */
  restore(text: string): string {
    return text.replace(PLACEHOLDER_IN_OUTPUT, (whole, label: string) => this.values.get(`[${label.toUpperCase()}]`) ?? whole);
  }

  /** Like restore, for text inside a JSON string (a streamed JSON answer): values are JSON-escaped. */
  restoreJsonText(text: string): string {
    return text.replace(PLACEHOLDER_IN_OUTPUT, (whole, label: string) => {
      const value = this.values.get(`[${label.toUpperCase()}]`);
      return value === undefined ? whole : JSON.stringify(value).slice(1, -1);
    });
  }

  /** A copy of a JSON value with every string restored (object keys are left as they are). */
  restoreDeep<T>(value: T): T {
    if (typeof value === "string") return this.restore(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.restoreDeep(item)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.restoreDeep(item)])) as T;
    }
    return value;
  }

  /**
   * Numbers the guardians' emails, phones and addresses first, in record order ([EMAIL_1] is the
   * first guardian's), and returns their street lines, with and without the house number, as
   * dictionary entries.
   */
  private registerContacts(guardians: readonly PrivacyGuardian[]): NameEntry[] {
    const streets: NameEntry[] = [];
    for (const guardian of guardians) {
      if (guardian.email) this.placeholder("email", emailKey(guardian.email), "EMAIL", guardian.email.trim());
      const phone = guardian.phone ? phoneKey(guardian.phone) : undefined;
      if (phone) this.placeholder("phone", phone, "PHONE", guardian.phone!.trim());
      const street = guardian.address?.split(",")[0]!.trim();
      if (!street) continue;
      const label = this.placeholder("address", addressKey(street), "ADDRESS", guardian.address!.trim()).slice(1, -1);
      const withoutNumber = street.replace(/^\d+[A-Za-z]?\s+/, "");
      streets.push({ name: street, label }, ...(withoutNumber.includes(" ") ? [{ name: withoutNumber, label }] : []));
    }
    return streets;
  }

  private datePlaceholder(text: string, date: FoundDate): string | undefined {
    const surface = text.slice(date.start, date.end);
    const dob = this.dateOfBirth;
    if (dob && date.readings.some((r) => r.year === dob.year && r.month === dob.month && r.day === dob.day)) {
      return this.placeholder("dob", "dob", "DATE_OF_BIRTH", surface, false);
    }
    if (!followsBirthLabel(text, date.start)) return undefined;
    const [reading] = date.readings;
    return this.placeholder("date", `${reading!.year}-${reading!.month}-${reading!.day ?? ""}`, "DATE", surface);
  }

  /** The placeholder of one value (kind + key), numbered in order of first sight unless `numbered` is false. */
  private placeholder(kind: string, key: string, label: string, surface: string, numbered = true): string {
    const id = `${kind}:${key}`;
    let placeholder = this.byKey.get(id);
    if (placeholder === undefined) {
      const n = (this.counters.get(label) ?? 0) + 1;
      this.counters.set(label, n);
      placeholder = numbered ? `[${label}_${n}]` : `[${label}]`;
      this.byKey.set(id, placeholder);
      this.values.set(placeholder, surface);
    }
    return placeholder;
  }
}

/**
 * Dictionary entries, most specific first: the student's first and last name, guardians' and staff's
 * full names, then single parts of every name.
 */
function nameEntries(record: PrivacyRecord): NameEntry[] {
  const student = record.student;
  const guardians = (record.guardians ?? []).map((g, i) => ({ name: g.name, label: `GUARDIAN_${i + 1}` }));
  const staff = (record.staffNames ?? []).map((name, i) => ({ name, label: `STAFF_${i + 1}` }));
  const entries: NameEntry[] = student
    ? [{ name: student.firstName, label: "STUDENT" }, { name: student.lastName, label: "STUDENT_LAST" }]
    : [];
  entries.push(...guardians, ...staff);
  if (student) {
    entries.push(...nameTokens(student.firstName).map((name, i) => ({ name, label: `STUDENT_NAME_${i + 1}` })));
    entries.push(...nameTokens(student.lastName).map((name, i) => ({ name, label: `STUDENT_LAST_${i + 1}` })));
  }
  for (const person of [...guardians, ...staff]) entries.push(...partEntries(person));
  return entries;
}

/** "Octavian Quillfeather" → Octavian as GUARDIAN_1_FIRST, Quillfeather as GUARDIAN_1_LAST (middle parts NAME_2, …). */
function partEntries(person: NameEntry): NameEntry[] {
  const parts = nameParts(person.name);
  if (parts.length < 2) return [];
  const tokens = nameTokens(person.name);
  return tokens.map((name) => {
    const position = parts.indexOf(name);
    const part = position === 0 ? "FIRST" : position === parts.length - 1 ? "LAST" : `NAME_${tokens.indexOf(name) + 1}`;
    return { name, label: `${person.label}_${part}` };
  });
}

function splice(text: string, replacements: readonly { start: number; end: number; placeholder: string }[]): string {
  let out = "";
  let at = 0;
  for (const r of [...replacements].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, r.start) + r.placeholder;
    at = r.end;
  }
  return out + text.slice(at);
}
