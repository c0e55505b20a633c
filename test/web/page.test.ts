import type { Duplex } from "node:stream";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { signToken } from "../../src/auth.ts";
import { WEB_CSP } from "../../src/http/web.ts";
import { DEFAULT_SECTION_LABELS } from "../../src/iep/templates.ts";
import { EVIDENCE_DOCS, slowNextStream, studentWithEvidence, wsClient, watchGenerationEvents } from "../helpers/generation.ts";
import { addReadyEvidence, startTestStack, TEST_JWT_SECRET, type TestStack } from "../helpers/stack.ts";
import { axeViolations as axeOn, browserSockets as trackSockets, launchChromium, openPage, screenshotter } from "./browser.ts";
import { generationStates, phoneWidth, type Flow } from "./flows.ts";
import { ADDED_DOC, createSchoolTemplate, EXTRA_ITEM, resumedWithoutRepeats } from "./fixtures.ts";

/**
 * The web page in a real browser (Debian's Chromium through playwright-core, never a downloaded
 * one) against a real test stack: sign in, evidence, generate and watch, cancel and retry, the IEP
 * and its sources, review, accessibility (axe-core) at desktop and phone widths, and resuming
 * after the socket drops. Full-page screenshots go to docs/screenshots/latest/
 * (UPDATE_SCREENSHOTS=1 also refreshes the README's, viewport-sized, in docs/screenshots/).
 */
const WAIT = { timeout: 30_000 };

let stack: TestStack;
let browser: Browser;
let page: Page;
let studentId: string;
let browserSockets: Set<Duplex>;
let screenshot: (name: string, readme?: boolean) => Promise<void>;
const problems: string[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
  studentId = await studentWithEvidence(stack);
  browserSockets = trackSockets(stack.runtime.server!.httpServer);
  page = await openPage(browser, new URL(stack.httpUrl).origin, problems);
  screenshot = await screenshotter(page);
}, 120_000);

beforeEach(() => {
  onTestFailed(async ({ task }) => {
    if (!page) return;
    // What the page showed when a step failed (in the test log, and as latest/failed-*.png).
    await screenshot(`failed-${task.name.replace(/\W+/g, "-").slice(0, 40)}`).catch(() => undefined);
    console.error(`page at ${page.url()} when "${task.name}" failed:\n${await page.locator("main").innerText().catch(String)}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const axeViolations = () => axeOn(page);

async function openGenerationFromForm(): Promise<string> {
  await page.goto(`${stack.httpUrl}/#/students/${studentId}`);
  await page.getByRole("button", { name: "Generate IEP draft" }).click();
  await page.waitForURL(/#\/generations\//, WAIT);
  return page.url().split("#/generations/")[1]!;
}

/** What the flows in ./flows.ts need of this file's browser and stack. */
const flow = (): Flow => ({ page, stack, studentId, screenshot, axeViolations, openGenerationFromForm, viewStatus, draftText });

const draftText = () => page.locator(".draft").textContent().then((text) => text ?? "");
const viewStatus = () => page.locator("[data-status]").first().getAttribute("data-status");

describe("the web page", () => {
  it("signs in with a token and lists the student's evidence; a new document turns Ready live, one added while offline appears", async () => {
    const response = await page.goto(stack.httpUrl);
    expect(response?.headers()["content-security-policy"]).toBe(WEB_CSP);
    await page.getByLabel("Access token").waitFor(WAIT);
    expect(await axeViolations()).toEqual([]);
    await page.getByLabel("Access token").fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent(), WAIT).toMatch(/not accepted/);
    await page.getByLabel("Access token").fill(`Bearer ${stack.tenant.token}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor(WAIT);
    await page.getByRole("link", { name: /Ada Testcase/ }).click();
    await page.getByRole("heading", { name: "Ada Testcase", level: 1 }).waitFor(WAIT);
    for (const doc of EVIDENCE_DOCS) await expect(page.locator(".evidence li", { hasText: doc.title }).locator(".badge").textContent()).resolves.toBe("Ready");

    await page.getByLabel("Title", { exact: true }).fill(ADDED_DOC.title);
    await page.getByLabel("Kind", { exact: true }).selectOption("ASSESSMENT");
    await page.getByLabel("Text", { exact: true }).fill(ADDED_DOC.body);
    await page.getByRole("button", { name: "Add document" }).click();
    const added = page.locator(".evidence li", { hasText: ADDED_DOC.title }).locator(".badge");
    await expect.poll(() => added.textContent(), WAIT).toBe("Ready");

    // A document added elsewhere while the socket is down (graphql-ws waits at least 0.5 s before
    // reconnecting) shows up once it is back, and turns Ready.
    for (const socket of browserSockets) socket.destroy();
    browserSockets.clear();
    await addReadyEvidence(stack, studentId, { kind: "PARENT_INPUT", title: "Parent questionnaire", body: "Parents report Ada reads with her sister every evening and enjoys graphic novels." });
    await expect.poll(() => page.locator(".evidence li", { hasText: "Parent questionnaire" }).locator(".badge").textContent(), WAIT).toBe("Ready");
    expect(await axeViolations()).toEqual([]);
  }, 60_000);

  it("generates an IEP: queued, running with progress, stages and streamed text; resumes after the socket drops without repeating text", async () => {
    const restore = slowNextStream(stack.simulator, 4000);
    try {
      const id = await openGenerationFromForm();
      const reference = watchGenerationEvents(wsClient(stack), id, { timeoutMs: 60_000 });
      await expect.poll(draftText, WAIT).toMatch(/\S{10}/);
      expect(await viewStatus()).toBe("RUNNING");
      expect(Number(await page.locator("progress").getAttribute("value"))).toBeGreaterThan(0);
      expect(await page.locator(".stages li", { hasText: "Writing the draft" }).count()).toBeGreaterThanOrEqual(1);
      await screenshot("generating", true);
      expect(await axeViolations()).toEqual([]);

      const before = await draftText();
      expect(browserSockets.size).toBeGreaterThan(0);
      for (const socket of browserSockets) socket.destroy();
      browserSockets.clear();
      await expect.poll(viewStatus, { timeout: 60_000 }).toBe("SUCCEEDED");
      const { events } = await reference.done;
      const full = events.map((event) => event.textDelta ?? "").join("");
      const after = await draftText();
      expect(before.length).toBeLessThan(full.length);
      expect(await page.getByText(/^Connection lost: resuming after event \d+/).count()).toBe(1);
      expect(resumedWithoutRepeats(full, before, after)).toBe(true);
      const seqs = await page.locator(".stages li").evaluateAll((items) => items.map((item) => item.getAttribute("data-seq")));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs.length).toBe(events.filter((event) => event.textDelta === null).length);
      expect(await page.locator("#generation-status").textContent()).toMatch(/^Succeeded/);
    } finally {
      restore();
    }
  }, 90_000);

  it("shows the finished IEP with every section; a citation opens its source's text", async () => {
    await page.getByRole("link", { name: "Read the IEP" }).click();
    await page.getByRole("heading", { name: /IEP for Ada Testcase/, level: 1 }).waitFor(WAIT);
    // A 10-year-old: every section but transition and transfer of rights, in §300.320 order.
    const expected = Object.entries(DEFAULT_SECTION_LABELS).filter(([kind]) => kind !== "TRANSITION" && kind !== "TRANSFER_OF_RIGHTS").map(([, label]) => label);
    await page.locator(".section h2").first().waitFor(WAIT);
    expect(await page.locator(".section h2").allTextContents()).toEqual(expected);
    expect(await page.locator(".item-title", { hasText: /^Goal 1: / }).count()).toBe(1);
    await screenshot("iep", true);

    const cite = page.locator("button.cite").first();
    await cite.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor(WAIT);
    const quoted = (await dialog.locator(".chunk-text").textContent()) ?? "";
    const title = (await dialog.getByRole("heading").textContent()) ?? "";
    const source = [...EVIDENCE_DOCS, ADDED_DOC].find((doc) => title.endsWith(doc.title));
    expect(source?.body).toContain(quoted.trim().slice(0, 40));
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await cite.evaluate((element) => element === element.ownerDocument.activeElement)).toBe(true);
    expect(await axeViolations()).toEqual([]);
  });

  it("cancels a running draft, then retries it to success", async () => {
    const restore = slowNextStream(stack.simulator, 8000);
    try {
      await openGenerationFromForm();
      await expect.poll(() => page.locator("[data-stage]").first().getAttribute("data-stage"), WAIT).toBe("DRAFTING");
      await page.getByRole("button", { name: "Cancel" }).click();
      await expect.poll(viewStatus, WAIT).toBe("CANCELLED");
      await screenshot("cancelled");
    } finally {
      restore();
    }
    await page.getByRole("button", { name: "Retry" }).click();
    await expect.poll(viewStatus, WAIT).toBe("SUCCEEDED");
    await page.getByRole("link", { name: "Read the IEP" }).waitFor(WAIT);
  }, 60_000);

  it("edits a section (bad JSON and invalid content are explained), submits for review and approves", async () => {
    await page.getByRole("link", { name: "Read the IEP" }).click();
    await page.getByRole("heading", { name: DEFAULT_SECTION_LABELS.PROGRESS_REPORTING, level: 2 }).waitFor(WAIT);
    const section = page.locator("#section-PROGRESS_REPORTING");
    await section.getByRole("button", { name: "Edit section" }).click();
    expect(await section.locator(".provenance").textContent()).toMatch(/^Drafted by AI/);
    // As JSON: a syntax error is caught in the page, invalid content by the server, field by field.
    await section.getByRole("button", { name: "JSON" }).click();
    const editor = section.getByRole("textbox");
    const content = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    await editor.fill("{ not json");
    await section.getByRole("button", { name: "Save section" }).click();
    await expect.poll(() => section.getByRole("alert").textContent(), WAIT).toMatch(/Not valid JSON/);
    await editor.fill(JSON.stringify({ ...content, method: "" }));
    await section.getByRole("button", { name: "Save section" }).click();
    await expect.poll(() => section.getByRole("alert").textContent(), WAIT).toMatch(/method/);
    // Back to the form (built from the JSON as it stands): one labelled field per item.
    await section.getByRole("button", { name: "Form" }).click();
    expect(await section.getByLabel("Method", { exact: true }).inputValue()).toBe("");
    await section.getByLabel("Method", { exact: true }).fill(String(content.method));
    await section.getByLabel("Frequency", { exact: true }).fill("Every six weeks, with a written note home");
    await section.getByRole("button", { name: "Save section" }).click();
    await section.getByText("Every six weeks, with a written note home").waitFor(WAIT);
    await section.locator(".provenance", { hasText: /Edited by/ }).waitFor(WAIT);
    await page.getByRole("button", { name: "Submit for review" }).click();
    await page.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.locator(".iep[data-status]").getAttribute("data-status"), WAIT).toBe("FINAL");
    const [printView] = await Promise.all([page.context().waitForEvent("page"), page.getByRole("link", { name: /Print/ }).click()]);
    await printView.waitForLoadState();
    expect(new URL(printView.url()).pathname).toMatch(/^\/ieps\/[^/]+\/print$/);
    expect(await printView.locator("body").innerText()).toContain("Every six weeks, with a written note home");
    await printView.close();

    // A FINAL IEP is immutable: editing it opens a new DRAFT version that says what changed.
    const finalUrl = page.url();
    await section.getByRole("button", { name: "Edit section" }).click();
    await section.getByLabel("Frequency", { exact: true }).fill("Monthly, by email");
    await section.getByRole("button", { name: "Save section" }).click();
    await page.waitForURL((url) => url.href !== finalUrl, WAIT);
    await expect.poll(() => page.locator(".iep[data-status]").getAttribute("data-status"), WAIT).toBe("DRAFT");
    await expect.poll(() => page.locator("#section-PROGRESS_REPORTING .change").textContent(), WAIT).toMatch(/^Changed since version \d+: .*frequency/);
    await page.getByRole("navigation", { name: "Versions" }).getByRole("link").first().waitFor(WAIT);
  }, 60_000);

  it("shows a queued draft's position and estimate, waiting for Gemini, and a failure with Retry", async () => {
    await generationStates(flow());
  }, 120_000);

  it("generates with a template, a meeting date and chosen evidence kinds; the IEP follows the template's labels and shows its extra item", async () => {
    const templateId = await createSchoolTemplate(stack, "Riverside district form", { ANNUAL_GOALS: "Goals for the year" });

    await page.goto(`${stack.httpUrl}/#/students/${studentId}`);
    await page.reload(); // the Generate form lists the templates there are when it is rendered
    await page.getByLabel("Template").selectOption({ label: "Riverside district form" });
    await page.getByLabel("Meeting date").fill("2026-12-01");
    await page.getByLabel("Prior IEP").uncheck();
    await page.getByLabel("Parent input").uncheck();
    await page.getByRole("button", { name: "Generate IEP draft" }).click();
    await page.waitForURL(/#\/generations\//, WAIT);
    await expect.poll(viewStatus, WAIT).toBe("SUCCEEDED");
    const id = page.url().split("#/generations/")[1]!;
    const { data } = await stack.gql(`query WebTestGenerationInput($id: ID!) { generation(id: $id) { meetingDate evidenceKinds template { template { id } } } }`, { id });
    expect(data.generation.meetingDate).toBe("2026-12-01");
    expect([...data.generation.evidenceKinds].sort()).toEqual(["ASSESSMENT", "EVALUATION", "OTHER", "PROGRESS_NOTE", "TEACHER_OBSERVATION"]);
    expect(data.generation.template.template.id).toBe(templateId);

    await page.getByRole("link", { name: "Read the IEP" }).click();
    await page.getByRole("heading", { name: "Goals for the year", level: 2 }).waitFor(WAIT);
    const extra = page.locator("#section-SERVICES .template-items dd");
    expect(await page.locator("#section-SERVICES .template-items dt").textContent()).toBe(EXTRA_ITEM.label);
    expect((await extra.textContent())?.length).toBeGreaterThan(10);
    expect(await page.locator(".meta", { hasText: "Meeting 2026-12-01" }).count()).toBe(1);
  }, 60_000);

  it("is usable at phone width (375 px): no horizontal scrolling, no serious axe violations", async () => {
    await phoneWidth(flow());
  }, 60_000);

  it("goes back to sign-in when the session ends; Remember me survives a reload; Sign out forgets the token", async () => {
    const viewer = { userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" as const };
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Access token").fill(await signToken(viewer, TEST_JWT_SECRET, "4s"));
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: /Ada Testcase/ }).click();
    await expect.poll(() => page.locator(".signin .notice").textContent(), WAIT).toMatch(/session has ended/);

    await page.getByLabel("Access token").fill(stack.tenant.token);
    await page.getByLabel("Remember me on this device").check();
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor(WAIT);
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Access token").waitFor(WAIT);
    await page.reload();
    await page.getByLabel("Access token").waitFor(WAIT);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
  });

  it("made no request to another host and logged no errors", () => {
    expect(problems).toEqual([]);
  });
});
