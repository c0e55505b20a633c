import type { AppContext } from "../app.ts";
import { errorMessage } from "../client.ts";
import { errorBox, h, replace } from "../dom.ts";
import { WebStudents } from "../operations.ts";

/** The student picker: a list of links (`#/students/<id>`), the current one marked. */
export function studentList(context: () => AppContext) {
  const list = h("ul", { class: "students" });
  const status = h("div", { "aria-live": "polite" });
  const element = h("nav", { class: "card picker", "aria-labelledby": "students-title" },
    h("h2", { id: "students-title" }, "Students"), status, list);
  let selected: string | undefined;

  const mark = () => {
    for (const link of list.querySelectorAll("a")) {
      if (link.dataset.id === selected) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  };

  const refresh = async () => {
    const { data, error } = await context().api.urql.query(WebStudents, {}).toPromise();
    if (error || !data) return replace(status, errorBox(error ? errorMessage(error) : "Could not load students."));
    const edges = data.students.edges;
    replace(status, edges.length === 0 ? h("p", {}, "No students on your caseload yet.") : "");
    replace(list, edges.map(({ node }) => h("li", {},
      h("a", { href: `#/students/${node.id}`, "data-id": node.id },
        h("span", { class: "name" }, node.fullName),
        h("span", { class: "meta" }, `Grade ${node.grade} · age ${node.age}`)))));
    mark();
  };

  void refresh();
  return {
    element,
    refresh: () => void refresh(),
    select(id: string | undefined) {
      selected = id;
      mark();
    },
  };
}
