import { mkdir, readFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (apt-get install chromium), headless; never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * A desktop-sized page that records, in `problems`, any request to another origin than `origin`,
 * console errors (but the 401s a refused token causes) and uncaught page errors.
 */
export async function openPage(browser: Browser, origin: string, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const host = new URL(origin).host;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.host !== host) problems.push(`request to another host: ${request.url()}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" && !/401|Unauthorized/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return page;
}

/** The browser's WebSockets on a server (never the test's own clients), to cut them as a network drop would. */
export function browserSockets(server: Server): Set<Duplex> {
  const sockets = new Set<Duplex>();
  server.on("upgrade", (request, socket) => {
    if (String(request.headers["user-agent"]).includes("Chrome")) sockets.add(socket);
  });
  return sockets;
}

const AXE = fileURLToPath(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url));

/** axe-core's serious and critical violations on the page as it is now (injected over CDP: the CSP forbids inline scripts). */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(await readFile(AXE, "utf8"));
  const violations = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((result) =>
    result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`);
  return violations as string[];
}

const SCREENSHOTS = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

/**
 * Saves full-page screenshots to docs/screenshots/latest/ (ignored by git); with
 * UPDATE_SCREENSHOTS=1, `readme` ones are also saved viewport-sized to docs/screenshots/.
 */
export async function screenshotter(page: Page): Promise<(name: string, readme?: boolean) => Promise<void>> {
  await mkdir(`${SCREENSHOTS}latest`, { recursive: true });
  return async (name, readme = false) => {
    await page.screenshot({ path: `${SCREENSHOTS}latest/${name}.png`, fullPage: true });
    if (readme && process.env.UPDATE_SCREENSHOTS === "1") await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
  };
}
