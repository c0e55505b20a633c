/** Children h() accepts: nodes, text, and nothing (skipped). */
export type Child = Node | string | number | null | undefined | false | Child[];

type Props = Record<string, unknown> & {
  class?: string;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
};

/**
 * Creates an element: `h("button", { type: "button", on: { click } }, "Save")`. Props set
 * attributes (true → empty attribute, false/null/undefined → none); `on` adds listeners. Text is
 * always a text node, never parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "on") {
      for (const [type, listener] of Object.entries(value as Record<string, EventListener>)) element.addEventListener(type, listener);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children (flattening arrays, skipping empty ones). */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;
/** A page-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled form control: `<label for>` + the control (+ an optional hint wired by aria-describedby). */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  control.id ||= uid("field");
  const hintElement = hint ? h("small", { id: uid("hint"), class: "hint" }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintElement);
}

/** "2026-11-27T18:52:25Z" → a local, readable date and time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const ACRONYMS = new Set(["iep"]);

/** "PROGRESS_NOTE" → "Progress note"; "PRIOR_IEP" → "Prior IEP"; "academicAchievement" → "Academic achievement". */
export function humanize(name: string): string {
  const words = name.includes("_") ? name.toLowerCase().split("_") : name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(" ");
  const text = words.filter(Boolean).map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word)).join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A short alert (role=alert) for an error message. */
export function errorBox(message: string): HTMLElement {
  return h("p", { class: "error", role: "alert" }, message);
}

let interacted = false;
for (const type of ["keydown", "pointerdown"]) document.addEventListener(type, () => (interacted = true), { capture: true, once: true });

/**
 * After a view replaced its content (e.g. "Loading…" with the data), moves focus to its new h1
 * when focus was lost with the old content, so keyboard and screen-reader users keep their place.
 * Not on a fresh load: the first Tab then still reaches the skip link.
 */
export function refocus(view: HTMLElement): void {
  if (!interacted) return;
  const active = document.activeElement;
  if (active && active !== document.body && document.contains(active)) return;
  const heading = view.querySelector<HTMLElement>("h1");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}
