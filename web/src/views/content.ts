import { h, humanize, type Child } from "../dom.ts";

/** Makes the button for one cited chunk id. */
export type CiteButton = (chunkId: string) => HTMLElement;

declare const __IEP_KEY_ORDER__: string[];
/** Each content key's position in the section schemas (src/iep/content.ts, read at build time). */
const KEY_RANK = new Map(__IEP_KEY_ORDER__.map((key, index) => [key, index]));
/** A content key's place in the section schemas' order (unknown keys last). */
export const contentKeyRank = (key: string) => KEY_RANK.get(key) ?? Number.MAX_SAFE_INTEGER;
const rank = contentKeyRank;

/** Fields that name an item in a list (a goal's area, a service's name …), shown as its heading. */
const TITLE_KEYS = ["area", "service", "assessment", "name", "title", "goal"];

/**
 * Renders a section's validated JSON readably: objects as headed parts, cited statements as
 * paragraphs with their sources, lists as lists (goals as numbered cards with their criteria),
 * scalars as text. Never HTML from the content: every string is a text node.
 */
export function renderContent(value: unknown, cite: CiteButton): HTMLElement {
  return h("div", { class: "content-body" }, renderValue(value, cite, 3));
}

function renderValue(value: unknown, cite: CiteButton, depth: number): Child {
  if (value === null || value === undefined) return h("p", { class: "empty" }, "—");
  if (typeof value === "string") return h("p", {}, value);
  if (typeof value === "number") return h("p", {}, String(value));
  if (typeof value === "boolean") return h("p", {}, value ? "Yes" : "No");
  if (Array.isArray(value)) return renderList(value, cite, depth);
  if (isCitedStatement(value)) return h("p", { class: "statement" }, value.statement, " ", citations(value.citations, cite));
  return renderObject(value as Record<string, unknown>, cite, depth);
}

function renderObject(object: Record<string, unknown>, cite: CiteButton, depth: number): Child {
  const parts: Child[] = [];
  const fields: [string, unknown][] = [];
  for (const [key, child] of Object.entries(object).sort(([a], [b]) => rank(a) - rank(b))) {
    if (key === "citations" && Array.isArray(child)) continue;
    if (isScalar(child) || isScalarList(child)) fields.push([key, child]);
    else parts.push(h("div", { class: "part" }, heading(depth, humanize(key)), renderValue(child, cite, depth + 1)));
  }
  const list = fields.length ? h("dl", {}, fields.map(([key, child]) => [h("dt", {}, humanize(key)), h("dd", {}, scalarText(child))])) : null;
  const sources = Array.isArray(object.citations) ? h("p", { class: "sources" }, "Sources: ", citations(object.citations, cite)) : null;
  return [list, ...parts, sources];
}

function renderList(items: unknown[], cite: CiteButton, depth: number): Child {
  if (items.length === 0) return h("p", { class: "empty" }, "None.");
  if (items.every(isScalar)) return h("ul", {}, items.map((item) => h("li", {}, scalarText(item))));
  const numbered = items.some((item) => item && typeof item === "object" && "area" in item);
  return h(numbered ? "ol" : "ul", { class: "items" }, items.map((item, index) => {
    if (!item || typeof item !== "object" || Array.isArray(item) || isCitedStatement(item)) return h("li", {}, renderValue(item, cite, depth));
    const object = item as Record<string, unknown>;
    const titleKey = TITLE_KEYS.find((key) => typeof object[key] === "string");
    const rest = titleKey ? Object.fromEntries(Object.entries(object).filter(([key]) => key !== titleKey)) : object;
    const title = titleKey ? `${numbered ? `Goal ${index + 1}: ` : ""}${String(object[titleKey])}` : null;
    return h("li", { class: "item" }, title ? h("p", { class: "item-title" }, title) : null, renderObject(rest, cite, depth + 1));
  }));
}

function heading(depth: number, text: string): HTMLElement {
  return depth <= 3 ? h("h3", {}, text) : h("h4", {}, text);
}

function citations(ids: unknown[], cite: CiteButton): HTMLElement {
  return h("span", { class: "cites" }, ids.filter((id): id is string => typeof id === "string").map(cite));
}

function isCitedStatement(value: unknown): value is { statement: string; citations: unknown[] } {
  if (!value || typeof value !== "object") return false;
  const object = value as Record<string, unknown>;
  return typeof object.statement === "string" && Array.isArray(object.citations) && Object.keys(object).length === 2;
}

function isScalar(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function isScalarList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every(isScalar) && value.every((item) => typeof item !== "string" || item.length < 80);
}

function scalarText(value: unknown): Child {
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return value === null || value === undefined ? "—" : String(value);
}
