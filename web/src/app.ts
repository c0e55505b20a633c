import type { Api } from "./client.ts";
import { h, replace } from "./dom.ts";
import type { WebMeQuery } from "./gql/graphql.ts";
import { generationView } from "./views/generation.ts";
import { iepView } from "./views/iep.ts";
import { studentView } from "./views/student.ts";
import { studentList } from "./views/students.ts";

/** What every view gets: the clients, the user, and navigation. */
export interface AppContext {
  api: Api;
  me: WebMeQuery["me"];
  /** Goes to a route, e.g. `#/students/<id>`. */
  navigate(hash: string): void;
  /** Runs when the view is left (subscriptions, timers). */
  onLeave(cleanup: () => void): void;
  /** Re-reads the student list (after a change). */
  refreshStudents(): void;
}

type Route =
  | { view: "home" }
  | { view: "student"; id: string }
  | { view: "generation"; id: string }
  | { view: "iep"; id: string };

function parseRoute(hash: string): Route {
  const [, kind, id] = hash.replace(/^#/, "").split("/");
  if (id && kind === "students") return { view: "student", id };
  if (id && kind === "generations") return { view: "generation", id };
  if (id && kind === "ieps") return { view: "iep", id };
  return { view: "home" };
}

/** Mounts the signed-in page: the student list beside the current view, routed by location.hash. */
export function mountApp(root: HTMLElement, base: Omit<AppContext, "navigate" | "onLeave" | "refreshStudents">): () => void {
  let cleanups: (() => void)[] = [];
  const content = h("section", { class: "content", "aria-label": "Details" });
  const context: AppContext = {
    ...base,
    navigate: (hash) => {
      if (location.hash === hash) render();
      else location.hash = hash;
    },
    onLeave: (cleanup) => void cleanups.push(cleanup),
    refreshStudents: () => nav.refresh(),
  };
  const nav = studentList(() => context);
  const render = () => {
    cleanups.forEach((cleanup) => cleanup());
    cleanups = [];
    const route = parseRoute(location.hash);
    nav.select(route.view === "student" ? route.id : undefined);
    const view = route.view === "student" ? studentView(context, route.id)
      : route.view === "generation" ? generationView(context, route.id)
      : route.view === "iep" ? iepView(context, route.id)
      : h("div", { class: "card" }, h("h1", {}, "Students"), h("p", {}, "Pick a student to see their evidence, draft an IEP and review it."));
    replace(content, view);
    const heading = content.querySelector("h1");
    if (heading && document.activeElement !== document.body) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  };
  replace(root, h("div", { class: "layout" }, nav.element, content));
  window.addEventListener("hashchange", render);
  render();
  return () => {
    window.removeEventListener("hashchange", render);
    cleanups.forEach((cleanup) => cleanup());
  };
}
