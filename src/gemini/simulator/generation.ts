/**
 * Deterministic text and JSON generation for the Gemini SIMULATOR (no model involved).
 *
 * Given a generateContent request body, produces the text a model would have answered:
 * a JSON instance that validates against the requested response schema, or a short
 * text derived from the prompt.
 */
import { fnv1a } from "./embedding.ts";
import { iepDraftFor } from "./iep.ts";

type JsonSchema = { [keyword: string]: any };

/** Finds evidence chunk ids in a prompt, e.g. "chunk: 0b6c…" or "[chunk=0b6c…]". */
const CHUNK_ID_PATTERN = /chunk[:= ]\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/gi;
/** The same marker with optional surrounding brackets, for cutting the prompt into evidence pieces. */
const CHUNK_MARKER = /[[(]?\s*chunk[:= ]\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*[\])]?/gi;
const CITATION_PROPERTY = /chunk_?id|citation|source_?id/i;
const DEFAULT_ARRAY_LENGTH = 2;
const MAX_CITATIONS_PER_ARRAY = 3;
const MAX_REF_DEPTH = 3;
const ABANDON_REF_DEPTH = 32;
const SNIPPET_MAX_CHARS = 160;
const FALLBACK_SNIPPET = "Simulated text from iepgen-gemini-simulator.";

/** The text parts of a generateContent body: `contents` (the prompt) and `systemInstruction`. */
export function requestTexts(body: any): { promptText: string; systemText: string } {
  const contents: unknown[] = Array.isArray(body?.contents) ? body.contents : [];
  return {
    promptText: contents.map(textOfContent).filter(Boolean).join("\n"),
    systemText: textOfContent(body?.systemInstruction),
  };
}

/** The concatenated text parts of one Gemini `Content` ({ role, parts: [{ text }] }). */
export function textOfContent(content: any): string {
  const parts: unknown[] = Array.isArray(content?.parts) ? content.parts : [];
  return parts
    .map((part: any) => (typeof part?.text === "string" ? part.text : ""))
    .filter(Boolean)
    .join("\n");
}

/** The response schema a generateContent body asks for (`responseJsonSchema`, else `responseSchema`). */
export function responseSchemaOf(body: any): unknown {
  return body?.generationConfig?.responseJsonSchema ?? body?.generationConfig?.responseSchema;
}

/** Unique chunk ids cited in `text`, in order of first appearance, lowercased. */
export function chunkIdsIn(text: string): string[] {
  const ids = [...text.matchAll(CHUNK_ID_PATTERN)].map((match) => (match[1] ?? "").toLowerCase());
  return [...new Set(ids)];
}

/** Rough token count (≈4 characters per token), at least 1 for non-empty text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits text into `count` roughly equal pieces (fewer if the text is shorter), never splitting a code point. */
export function splitIntoChunks(text: string, count: number): string[] {
  const characters = Array.from(text);
  const size = Math.max(1, Math.ceil(characters.length / count));
  const chunks: string[] = [];
  for (let start = 0; start < characters.length; start += size) {
    chunks.push(characters.slice(start, start + size).join(""));
  }
  return chunks.length > 0 ? chunks : [""];
}

/**
 * The simulator's default answer to a generateContent body: a templated IEP draft when iepgen's
 * IEP schema (or one of its sections) is requested, else a schema instance (as JSON text) when a
 * response schema is requested, JSON when JSON is requested, otherwise plain text.
 */
export function defaultGeneratedText(body: any): string {
  const { promptText, systemText } = requestTexts(body);
  const schema = responseSchemaOf(body);
  if (schema !== undefined) {
    const iepDraft = iepDraftFor({ responseJsonSchema: schema, systemText, promptText });
    if (iepDraft !== undefined) return JSON.stringify(iepDraft);
    const chunkIds = chunkIdsIn(`${systemText}\n${promptText}`);
    return JSON.stringify(instanceOfSchema(schema, { promptText, chunkIds, systemText }));
  }
  const answer = plainAnswer(promptText);
  return body?.generationConfig?.responseMimeType === "application/json" ? JSON.stringify({ text: answer }) : answer;
}

function plainAnswer(promptText: string): string {
  const snippets = snippetsFrom(promptText).slice(0, 2).join(" ");
  return `Simulated response (iepgen-gemini-simulator, not Google). ${snippets}`;
}

/**
 * Sentences of the prompt, each at most ~160 characters. When the prompt cites evidence chunks,
 * only the text following the chunk markers is used, so answers quote the evidence.
 */
export function snippetsFrom(text: string): string[] {
  const pieces = text.split(CHUNK_MARKER);
  const source = pieces.length > 1 ? pieces.slice(1).join("\n") : text;
  const snippets = source
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.replace(/\s+/g, " ").trim())
    .filter((sentence) => sentence.length >= 12 && /[\p{L}\p{N}]/u.test(sentence))
    .map((sentence) => truncateAtWord(sentence, SNIPPET_MAX_CHARS));
  return snippets.length > 0 ? snippets : [FALLBACK_SNIPPET];
}

function truncateAtWord(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const lastSpace = cut.lastIndexOf(" ");
  return `${lastSpace > maxChars / 2 ? cut.slice(0, lastSpace) : cut}…`;
}

interface InstanceState {
  root: JsonSchema;
  seed: number;
  snippets: string[];
  chunkIds: string[];
  citationsUsed: number;
  promptDates: string[];
}

/**
 * A deterministic instance of a JSON schema (zod v4 `z.toJSONSchema` output or Gemini's
 * OpenAPI-style `responseSchema`). Strings are prompt snippets; string properties named like
 * chunk ids / citations / source ids get the chunk ids given. `pattern` is not honoured
 * unless the generated value happens to match (formats date, date-time, time, email, uri, uuid are).
 */
export function instanceOfSchema(schema: unknown, source: { promptText: string; chunkIds: string[]; systemText?: string }): unknown {
  const root: JsonSchema = isObject(schema) ? schema : {};
  const state: InstanceState = {
    root,
    seed: fnv1a(source.promptText),
    snippets: snippetsFrom(source.promptText),
    chunkIds: source.chunkIds,
    citationsUsed: 0,
    promptDates: datesIn(source.systemText ?? "").length > 0 ? datesIn(source.systemText ?? "") : datesIn(source.promptText),
  };
  return instanceOf(schema, "$", "", state, 0);
}

function instanceOf(schema: unknown, path: string, name: string, state: InstanceState, refDepth: number): unknown {
  if (!isObject(schema)) return stringFor({}, path, name, state);
  if (typeof schema.$ref === "string") {
    if (refDepth >= ABANDON_REF_DEPTH) return null;
    return instanceOf(resolveRef(schema, state.root), path, name, state, refDepth + 1);
  }
  if (Array.isArray(schema.allOf)) return instanceOf(mergeAllOf(schema, state.root), path, name, state, refDepth);
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return pick(schema.enum, hashOf(state, path));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    return instanceOf(preferNonNull(alternatives, state.root), path, name, state, refDepth);
  }
  return instanceOfType(schema, typeOf(schema), path, name, state, refDepth);
}

function instanceOfType(
  schema: JsonSchema,
  type: string,
  path: string,
  name: string,
  state: InstanceState,
  refDepth: number,
): unknown {
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return hashOf(state, path) % 2 === 0;
    case "integer":
      return numberFor(schema, true, hashOf(state, path));
    case "number":
      return numberFor(schema, false, hashOf(state, path));
    case "array":
      return arrayFor(schema, path, name, state, refDepth);
    case "object":
      return objectFor(schema, path, state, refDepth);
    default:
      return stringFor(schema, path, name, state);
  }
}

function typeOf(schema: JsonSchema): string {
  const declared: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  const types = declared.filter((type): type is string => typeof type === "string").map((type) => type.toLowerCase());
  const concrete = types.find((type) => type !== "null");
  if (concrete) return concrete;
  if (types.includes("null")) return "null";
  if (isObject(schema.properties)) return "object";
  if (schema.items !== undefined || Array.isArray(schema.prefixItems)) return "array";
  return "string";
}

function objectFor(schema: JsonSchema, path: string, state: InstanceState, refDepth: number): Record<string, unknown> {
  const properties: JsonSchema = isObject(schema.properties) ? schema.properties : {};
  const required: string[] = Array.isArray(schema.required) ? schema.required : [];
  const minimal = refDepth >= MAX_REF_DEPTH;
  const names = [...new Set([...Object.keys(properties), ...required])].filter(
    (key) => !minimal || required.includes(key),
  );
  const result: Record<string, unknown> = {};
  for (const key of names) {
    result[key] = instanceOf(properties[key], `${path}.${key}`, key, state, refDepth);
  }
  const missing = (schema.minProperties ?? 0) - names.length;
  for (let index = 0; index < missing; index++) {
    const key = `simulated_${index + 1}`;
    result[key] = instanceOf(schema.additionalProperties, `${path}.${key}`, key, state, refDepth);
  }
  return result;
}

function arrayFor(schema: JsonSchema, path: string, name: string, state: InstanceState, refDepth: number): unknown[] {
  const prefixItems: unknown[] = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
  const length = arrayLength(schema, name, state, refDepth, prefixItems.length);
  const itemSchemaAt = (index: number): unknown =>
    index < prefixItems.length ? prefixItems[index] : isObject(schema.items) ? schema.items : {};
  return Array.from({ length }, (_, index) => instanceOf(itemSchemaAt(index), `${path}[${index}]`, name, state, refDepth));
}

function arrayLength(schema: JsonSchema, name: string, state: InstanceState, refDepth: number, prefixCount: number): number {
  const min = Math.max(schema.minItems ?? 0, prefixCount);
  const max = schema.items === false ? prefixCount : (schema.maxItems ?? Number.POSITIVE_INFINITY);
  if (refDepth >= MAX_REF_DEPTH) return Math.min(min, max);
  const citations = CITATION_PROPERTY.test(name) && state.chunkIds.length > 0;
  const wanted = citations ? Math.min(state.chunkIds.length, MAX_CITATIONS_PER_ARRAY) : DEFAULT_ARRAY_LENGTH;
  return clamp(Math.max(wanted, prefixCount), min, max);
}

function stringFor(schema: JsonSchema, path: string, name: string, state: InstanceState): string {
  const hash = hashOf(state, path);
  const value = citedChunkId(name, state) ?? promptDate(schema.format, name, state) ?? formattedString(schema.format, hash) ?? pick(state.snippets, hash);
  return fitLength(value, schema.minLength, schema.maxLength);
}

function datesIn(text: string): string[] {
  return [...new Set(text.match(/\b\d{4}-\d{2}-\d{2}\b/g) ?? [])].sort();
}

/**
 * Dates come from the instructions (else the prompt) when they have any (e.g. an IEP period): the earliest for names like
 * start/begin/from, the latest for end/until, so ranges the prompt asks for stay ordered and inside it.
 */
function promptDate(format: unknown, name: string, state: InstanceState): string | undefined {
  if (format !== "date" || state.promptDates.length === 0) return undefined;
  return /end|until|through/i.test(name) ? state.promptDates.at(-1) : state.promptDates[0];
}

function citedChunkId(name: string, state: InstanceState): string | undefined {
  if (!CITATION_PROPERTY.test(name) || state.chunkIds.length === 0) return undefined;
  const id = state.chunkIds[state.citationsUsed % state.chunkIds.length];
  state.citationsUsed++;
  return id;
}

function formattedString(format: unknown, hash: number): string | undefined {
  const date = `2026-${pad2(1 + (hash % 12))}-${pad2(1 + ((hash >>> 4) % 28))}`;
  switch (format) {
    case "date":
      return date;
    case "date-time":
      return `${date}T09:30:00Z`;
    case "time":
      return "09:30:00";
    case "email":
      return `simulated.user${hash % 1000}@example.com`;
    case "uri":
    case "url":
      return `https://example.com/simulated/${hash % 1000}`;
    case "uuid":
      return deterministicUuid(hash);
    default:
      return undefined;
  }
}

function deterministicUuid(hash: number): string {
  const hex = [0, 1, 2, 3].map((round) => fnv1a(String(round), hash).toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function fitLength(value: string, minLength: unknown, maxLength: unknown): string {
  let characters = Array.from(value);
  const min = typeof minLength === "number" ? minLength : 0;
  while (characters.length < min) characters = characters.concat(Array.from(characters.length > 0 ? " simulated" : "simulated"));
  return typeof maxLength === "number" ? characters.slice(0, Math.max(maxLength, 0)).join("") : characters.join("");
}

function numberFor(schema: JsonSchema, integer: boolean, hash: number): number {
  const natural = integer ? 1 + (hash % 100) : (1 + (hash % 10_000)) / 100;
  const { low, high } = numericBounds(schema, integer);
  let value = clamp(natural, low, high);
  if (integer && typeof schema.multipleOf === "number" && schema.multipleOf > 0) {
    const step = schema.multipleOf;
    value = Math.ceil(value / step) * step;
    if (value > high) value -= step;
  }
  return value;
}

/** Inclusive bounds; exclusive bounds (2020-12 numbers or OpenAPI booleans) are nudged inwards. */
function numericBounds(schema: JsonSchema, integer: boolean): { low: number; high: number } {
  const lowExclusive = typeof schema.exclusiveMinimum === "number" || schema.exclusiveMinimum === true;
  const highExclusive = typeof schema.exclusiveMaximum === "number" || schema.exclusiveMaximum === true;
  const low: number = typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum : (schema.minimum ?? -Infinity);
  const high: number = typeof schema.exclusiveMaximum === "number" ? schema.exclusiveMaximum : (schema.maximum ?? Infinity);
  if (integer) {
    return {
      low: lowExclusive ? Math.floor(low) + 1 : Math.ceil(low),
      high: highExclusive ? Math.ceil(high) - 1 : Math.floor(high),
    };
  }
  const nudge = Number.isFinite(low) && Number.isFinite(high) ? (high - low) / 4 : 1;
  return { low: lowExclusive ? low + nudge : low, high: highExclusive ? high - nudge : high };
}

function resolveRef(schema: JsonSchema, root: JsonSchema): unknown {
  const ref: string = schema.$ref;
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return {};
  const segments = ref.slice(2).split("/").map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
  const target = segments.reduce<any>((node, segment) => (isObject(node) ? node[segment] : undefined), root);
  return isObject(target) ? target : {};
}

function mergeAllOf(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const { allOf, ...rest } = schema;
  const parts: JsonSchema[] = (allOf as unknown[]).map((part) =>
    isObject(part) && typeof part.$ref === "string" ? (resolveRef(part, root) as JsonSchema) : (part as JsonSchema),
  );
  return parts.reduce<JsonSchema>(
    (merged, part) => ({
      ...merged,
      ...part,
      properties: { ...merged.properties, ...part.properties },
      required: [...(merged.required ?? []), ...(part.required ?? [])],
    }),
    rest,
  );
}

function preferNonNull(alternatives: unknown[], root: JsonSchema): unknown {
  const isNullSchema = (option: unknown): boolean => {
    const resolved = isObject(option) && typeof option.$ref === "string" ? resolveRef(option, root) : option;
    return isObject(resolved) && (resolved.type === "null" || resolved.type === "NULL");
  };
  return alternatives.find((option) => !isNullSchema(option)) ?? alternatives[0];
}

function hashOf(state: InstanceState, path: string): number {
  return fnv1a(path, state.seed);
}

function pick<T>(values: readonly T[], hash: number): T {
  return values[hash % values.length] as T;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

function pad2(value: number): string {
  return String(value).padStart(2, "0");
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
