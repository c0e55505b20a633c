import "./style.css";
import { mountApp } from "./app.ts";
import { createApi, errorMessage, isUnauthenticated, type Api } from "./client.ts";
import { h, replace } from "./dom.ts";
import { WebMe } from "./operations.ts";
import { forgetToken, storedToken, storeToken } from "./session.ts";
import { signInView } from "./views/signin.ts";

const main = document.getElementById("main")!;
const account = document.getElementById("account")!;
const connection = document.getElementById("connection")!;
let teardown: (() => void) | undefined;

// The skip link moves focus without touching location.hash (the page's routes live there).
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

const CONNECTION_TEXT = { live: "Live updates on", reconnecting: "Connection lost: reconnecting…", idle: "" } as const;

/** Shows the sign-in form, with a reason when the last session ended. */
function signIn(notice?: string): void {
  teardown?.();
  teardown = undefined;
  replace(account);
  replace(connection);
  replace(main, signInView(notice, async (token, remember) => {
    const stored = storeToken(token, remember);
    return start(stored);
  }));
}

/** Checks the token with `me`; on success mounts the app. Returns an error message otherwise. */
async function start(token: string): Promise<string | undefined> {
  const api: Api = createApi(token);
  const { data, error } = await api.urql.query(WebMe, {}).toPromise();
  if (!data?.me) {
    api.dispose();
    forgetToken();
    if (isUnauthenticated(error)) return "That token was not accepted (expired, invalid, or its user was removed). Run `npm run seed -- --demo` for a new one.";
    return error ? errorMessage(error) : "Could not sign in.";
  }
  const signOut = (notice?: string) => {
    forgetToken();
    location.hash = "";
    signIn(notice);
  };
  api.onUnauthenticated((message) => signOut(message));
  const offConnection = api.onConnection((state) => replace(connection, CONNECTION_TEXT[state]));
  replace(account,
    h("span", { class: "who" }, `${data.me.name} · ${data.me.school.name}`),
    h("button", { type: "button", class: "secondary", on: { click: () => signOut("Signed out.") } }, "Sign out"),
  );
  const unmount = mountApp(main, { api, me: data.me });
  teardown = () => {
    unmount();
    offConnection();
    api.dispose();
  };
  return undefined;
}

const token = storedToken();
if (token) {
  void start(token).then((problem) => problem && signIn(problem));
} else {
  signIn();
}
