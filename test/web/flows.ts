import type { Page } from "playwright-core";
import { expect } from "vitest";
import { generate, slowNextStream, waitForStatus } from "../helpers/generation.ts";
import type { TestStack } from "../helpers/stack.ts";
import { CANCEL, schoolAdminToken, viewsOf } from "./fixtures.ts";

/** The page test's browser page, stack and helpers, for the longer flows kept here. */
export interface Flow {
  page: Page;
  stack: TestStack;
  studentId: string;
  screenshot(name: string, readme?: boolean): Promise<void>;
  axeViolations(): Promise<string[]>;
  openGenerationFromForm(): Promise<string>;
  viewStatus(): Promise<string | null>;
  draftText(): Promise<string>;
}

const WAIT = { timeout: 30_000 };

/**
 * The generation view's states: queued (position and estimate), waiting for Gemini, a stream cut
 * and restarted (its text shown once), failed after its attempts (with the error) and Retry.
 */
export async function generationStates({ page, stack, studentId, screenshot, openGenerationFromForm, viewStatus, draftText }: Flow): Promise<void> {
  // Two slow drafts hold both workers: the page's draft waits its turn.
  const restore = slowNextStream(stack.simulator, 8000);
  const busy = await Promise.all([generate(stack, { studentId }), generate(stack, { studentId })]);
  let queuedId = "";
  try {
    await Promise.all(busy.map((generation) => waitForStatus(stack, generation.id, ["RUNNING"])));
    queuedId = await openGenerationFromForm();
    await expect.poll(() => page.locator("#generation-status").textContent(), WAIT).toMatch(/^Queued\. Position 1 in the queue\. Estimated done by .+\./);
    await screenshot("queued");
  } finally {
    restore();
    for (const generation of busy) await stack.gql(CANCEL, { id: generation.id });
  }
  await expect.poll(viewStatus, WAIT).toBe("SUCCEEDED");
  // Polled while queued and re-read at each status change, yet viewed (audited) once: when opened.
  expect(await viewsOf(stack, queuedId, await schoolAdminToken(stack))).toBe(1);

  // Gemini down for one attempt's three calls: the draft waits without using an attempt, then succeeds.
  stack.simulator.injectFault({ kind: "server_error" }, { times: 3, operation: "stream" });
  await openGenerationFromForm();
  // Polled at every frame (the wait lasts about a second); a function, as the CSP forbids eval.
  const waiting = await page.waitForFunction(() => {
    const document = (globalThis as any).document;
    return document.querySelector('[data-stage="WAITING_FOR_GEMINI"]') && document.querySelector("#generation-status").textContent;
  }, undefined, { polling: "raf", timeout: 30_000 });
  expect(await waiting.jsonValue()).toMatch(/^Waiting for Gemini/);
  await expect.poll(viewStatus, WAIT).toBe("SUCCEEDED");
  await expect(page.locator(".stages li", { hasText: "Waiting for Gemini" }).count()).resolves.toBe(1);

  // The stream is cut after two chunks and restarted: the page drops the partial text, shows the draft once.
  const restoreSlow = slowNextStream(stack.simulator, 3000);
  stack.simulator.injectFault({ kind: "stream_cut", afterChunks: 2 }, { times: 1, operation: "stream" });
  try {
    await openGenerationFromForm();
    await expect.poll(viewStatus, WAIT).toBe("SUCCEEDED");
  } finally {
    restoreSlow();
  }
  const draftTextNow = await draftText();
  await expect(page.locator(".stages li", { hasText: "Restarting the draft" }).count()).resolves.toBe(1);
  expect(() => JSON.parse(draftTextNow)).not.toThrow();

  // Malformed answers every time: the attempts run out, FAILED with the error; Retry succeeds.
  stack.simulator.injectFault({ kind: "malformed" }, { times: Infinity, operation: "stream" });
  try {
    await openGenerationFromForm();
    await expect.poll(viewStatus, { timeout: 60_000 }).toBe("FAILED");
    expect(await page.locator("#generation-status").textContent()).toMatch(/^Failed after \d+ of \d+ attempts: .+/);
    await screenshot("failed");
  } finally {
    stack.simulator.clearFaults();
  }
  await page.getByRole("button", { name: "Retry" }).click();
  await expect.poll(viewStatus, WAIT).toBe("SUCCEEDED");
}

/** At 375 px: no sideways scrolling and no serious axe violation on the student, IEP (and its form editor) and generation views; the skip link by keyboard. */
export async function phoneWidth({ page, stack, studentId, screenshot, axeViolations }: Flow): Promise<void> {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(`${stack.httpUrl}/#/students/${studentId}`);
  await page.getByRole("heading", { name: "Ada Testcase", level: 1 }).waitFor(WAIT);
  const overflow = () => page.evaluate(() => {
    const root = (globalThis as any).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  expect(await overflow()).toBe(0);
  expect(await axeViolations()).toEqual([]);
  await screenshot("phone");

  // By keyboard: on a fresh load the first Tab reaches the skip link, which moves focus into the content and keeps the route.
  await page.reload();
  await page.getByRole("heading", { name: "Ada Testcase", level: 1 }).waitFor(WAIT);
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => (globalThis as any).document.activeElement.textContent)).toBe("Skip to content");
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => (globalThis as any).document.activeElement.id)).toBe("main");
  expect(page.url()).toContain(`#/students/${studentId}`);

  const { data } = await stack.gql(`query WebTestIeps($id: ID!) { student(id: $id) { ieps { id generation { id } } } }`, { id: studentId });
  const iep = data.student.ieps.find((candidate: { generation: { id: string } | null }) => candidate.generation);
  for (const [route, ready] of [[`#/ieps/${iep.id}`, ".section h2"], [`#/generations/${iep.generation.id}`, "#open-iep"]] as const) {
    await page.goto(`${stack.httpUrl}/${route}`);
    await page.locator(ready).first().waitFor(WAIT);
    expect(await overflow(), route).toBe(0);
    expect(await axeViolations(), route).toEqual([]);
    if (!route.startsWith("#/ieps/")) continue;
    // The goals' form editor: nested lists of labelled fields, still within the screen.
    await page.locator("#section-ANNUAL_GOALS").getByRole("button", { name: "Edit section" }).click();
    await page.locator("#section-ANNUAL_GOALS").getByLabel("Goals 1 · Baseline").waitFor(WAIT);
    expect(await overflow(), "goals editor").toBe(0);
    expect(await axeViolations(), "goals editor").toEqual([]);
    await screenshot("phone-goals-editor");
    const goals = page.locator("#section-ANNUAL_GOALS");
    const objectives = goals.getByRole("group", { name: "Goals 1 · Short term objectives", exact: true });
    const before = await objectives.getByRole("textbox").count();
    await goals.getByRole("button", { name: "Add to Goals 1 · Short term objectives" }).click();
    await goals.getByLabel(`Goals 1 · Short term objectives ${before + 1}`).fill("Reads a grade-level passage aloud at 60 words correct per minute");
    await goals.getByRole("button", { name: `Remove Goals 1 · Short term objectives ${before + 1}` }).click();
    expect(await objectives.getByRole("textbox").count()).toBe(before);
  }
  await screenshot("phone-generation");
}
