import { errorBox, field, h } from "../dom.ts";

/**
 * The sign-in form: paste a token (e.g. from `npm run seed -- --demo`). `submit` resolves with an
 * error message, or undefined once signed in.
 */
export function signInView(notice: string | undefined, submit: (token: string, remember: boolean) => Promise<string | undefined>): HTMLElement {
  const token = h("textarea", { name: "token", rows: 4, required: true, autocomplete: "off", spellcheck: "false" });
  const remember = h("input", { type: "checkbox", name: "remember", id: "remember" });
  const status = h("div", { "aria-live": "polite" }, notice ? h("p", { class: "notice" }, notice) : null);
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Paste your access token. For a demo school, run ", h("code", {}, "npm run seed -- --demo"), " and copy the token it prints."),
    field("Access token", token, "A JWT; a leading “Bearer ” is fine."),
    h("div", { class: "check" }, remember, h("label", { for: "remember" }, "Remember me on this device")),
    button,
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!token.value.trim()) return;
    button.disabled = true;
    status.replaceChildren(h("p", {}, "Signing in…"));
    void submit(token.value, remember.checked).then((problem) => {
      button.disabled = false;
      status.replaceChildren(problem ? errorBox(problem) : "");
    });
  });
  return form;
}
