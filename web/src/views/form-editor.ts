import { h, humanize, uid } from "../dom.ts";
import { contentKeyRank } from "./content.ts";

/** A form for a JSON value: its element, and how to read the edited value back. */
export interface ValueForm {
  element: HTMLElement;
  read(): unknown;
}

/**
 * A form for a section's content, one control per field, shaped by the content itself: text as
 * text areas, numbers and yes/no as such, lists with Add and Remove, nested parts as fieldsets.
 * Citations are kept as they are (edit them as JSON). Every control is labelled with its place,
 * e.g. "Goals 2 · Baseline".
 */
export function contentForm(value: unknown): ValueForm {
  return formFor(value, "", undefined);
}

function formFor(value: unknown, label: string, key: string | undefined): ValueForm {
  if (key === "citations" && Array.isArray(value)) return keptAsIs(value);
  if (Array.isArray(value)) return listForm(value, label);
  if (value && typeof value === "object") return objectForm(value as Record<string, unknown>, label);
  return scalarForm(value, label);
}

function objectForm(object: Record<string, unknown>, label: string): ValueForm {
  const entries = Object.entries(object).sort(([a], [b]) => contentKeyRank(a) - contentKeyRank(b));
  const fields = entries.map(([key, child]) => [key, formFor(child, label ? `${label} · ${humanize(key)}` : humanize(key), key)] as const);
  const children = fields.map(([, form]) => form.element);
  const element = label ? h("fieldset", { class: "form-part" }, h("legend", {}, label), children) : h("div", {}, children);
  return { element, read: () => Object.fromEntries(fields.map(([key, form]) => [key, form.read()])) };
}

function listForm(items: unknown[], label: string): ValueForm {
  const list = h("ol", { class: "form-list" });
  const forms: ValueForm[] = [];
  const template = items[0];
  const addItem = (item: unknown) => {
    const form = formFor(item, `${label} ${forms.length + 1}`, undefined);
    forms.push(form);
    const remove = h("button", { type: "button", class: "secondary" }, `Remove ${label} ${forms.length}`);
    const entry = h("li", {}, form.element, remove);
    remove.addEventListener("click", () => {
      forms.splice(forms.indexOf(form), 1);
      entry.remove();
    });
    list.append(entry);
  };
  items.forEach(addItem);
  const add = h("button", { type: "button", class: "secondary", on: { click: () => addItem(blank(template)) } }, `Add to ${label}`);
  return { element: h("fieldset", { class: "form-part" }, h("legend", {}, label), list, add), read: () => forms.map((form) => form.read()) };
}

function scalarForm(value: unknown, label: string): ValueForm {
  const id = uid("form");
  if (typeof value === "boolean") {
    const box = h("input", { type: "checkbox", id, checked: value });
    return { element: h("div", { class: "check" }, box, h("label", { for: id }, label)), read: () => box.checked };
  }
  if (typeof value === "number") {
    const input = h("input", { type: "number", step: "any", id, value: String(value) });
    return { element: h("div", { class: "field" }, h("label", { for: id }, label), input), read: () => (input.value === "" ? null : Number(input.value)) };
  }
  const text = typeof value === "string" ? value : "";
  const area = h("textarea", { id, rows: Math.min(6, Math.ceil(text.length / 70) + 1) });
  area.value = text;
  return { element: h("div", { class: "field" }, h("label", { for: id }, label), area), read: () => (value === null && area.value === "" ? null : area.value) };
}

/** Citations: shown, kept unchanged. */
function keptAsIs(value: unknown[]): ValueForm {
  return { element: h("p", { class: "meta" }, `Sources: ${value.length} (edit them as JSON)`), read: () => value };
}

/** An empty value of the same shape, for a new list item (citations start empty: the server says they are needed). */
function blank(shape: unknown): unknown {
  if (Array.isArray(shape)) return [];
  if (shape && typeof shape === "object") return Object.fromEntries(Object.entries(shape).map(([key, child]) => [key, blank(child)]));
  if (typeof shape === "number") return 0;
  if (typeof shape === "boolean") return false;
  return "";
}
