import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, waitForStatus } from "../helpers/generation.ts";
import { createStudentViaApi, startTestStack, type TestStack } from "../helpers/stack.ts";

/** The stack's EVIDENCE_MAX_BYTES. */
const MAX_BYTES = 2 * 1024 * 1024;
import { fixture } from "../helpers/uploads.ts";
import { axeViolations, launchChromium, openPage, screenshotter } from "./browser.ts";

/**
 * Evidence files in the web page, in a real browser against a real stack (API and worker, with its
 * extraction threads): upload a PDF through the file input, watch it being read live until it is
 * Ready with its pages, and download the original; a file the server cannot read is refused with
 * its ValidationError, a file over the server's limit before it is sent; a citation from the PDF names its page.
 */
const WAIT = { timeout: 30_000 };
/** The simulator's answer delay while the PDF is embedded: holds the "Embedding…" step long enough to be seen. */
const EMBEDDING_LATENCY_MS = 1500;
/** test/fixtures/evidence/text.pdf (3 pages with a text layer), uploaded under this name. */
const FILENAME = "Psychoeducational evaluation.pdf";

let stack: TestStack;
let browser: Browser;
let page: Page;
let studentId: string;
const problems: string[] = [];

beforeAll(async () => {
  // A 2 MB EVIDENCE_MAX_BYTES: the page must check the server's limit, not a number of its own.
  [stack, browser] = await Promise.all([startTestStack({ evidenceFiles: { maxBytes: MAX_BYTES } }), launchChromium()]);
  studentId = await createStudentViaApi(stack);
  page = await openPage(browser, new URL(stack.httpUrl).origin, problems);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const row = (text: string) => page.locator(".evidence li", { hasText: text });

/** Signs in with the tenant's token and opens the student, with the form on "Upload a file". */
async function openStudentToUpload(): Promise<void> {
  await page.goto(stack.httpUrl);
  await page.getByLabel("Access token").fill(stack.tenant.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: /Ada Testcase/ }).click();
  await page.getByRole("heading", { name: "Ada Testcase", level: 1 }).waitFor(WAIT);
  await page.getByLabel("Upload a file").check();
}

describe("evidence files in the web page", () => {
  it("uploads a PDF, shows it being read live, then Ready with its pages; Download original gives the same bytes as an attachment", async () => {
    await openStudentToUpload();
    const pdf = fixture("text.pdf");
    stack.simulator.setLatencyMs(EMBEDDING_LATENCY_MS);
    try {
      await page.getByLabel("File", { exact: true }).setInputFiles({ name: FILENAME, mimeType: "application/pdf", buffer: Buffer.from(pdf) });
      expect(await page.getByLabel("Title", { exact: true }).inputValue()).toBe("Psychoeducational evaluation");
      await page.getByLabel("Kind", { exact: true }).selectOption("EVALUATION");
      await page.getByRole("button", { name: "Add document" }).click();
      const added = row(FILENAME);
      await expect.poll(() => added.locator(".progress-text").textContent(), WAIT).toBe("Embedding…");
      await screenshotter(page).then((shot) => shot("evidence-upload", true));
    } finally {
      stack.simulator.setLatencyMs(0);
    }
    const added = row(FILENAME);
    await expect.poll(() => added.locator(".badge").textContent(), WAIT).toBe("Ready");
    expect(await added.locator(".progress-text").textContent()).toBe("");
    expect(await added.locator(".file").textContent()).toMatch(/^Psychoeducational evaluation\.pdf · PDF · \d+ KB · 3 pages$/);
    expect(await axeViolations(page)).toEqual([]);

    // A click asks for a fresh signed URL and downloads from it; the link then holds that URL.
    const link = added.getByRole("link", { name: "Download original of “Psychoeducational evaluation”" });
    const [download] = await Promise.all([page.waitForEvent("download", WAIT), link.click()]);
    expect(download.suggestedFilename()).toBe(FILENAME);
    expect(new Uint8Array(await readFile((await download.path())!))).toEqual(pdf);
    const response = await fetch(new URL((await link.getAttribute("href"))!, stack.httpUrl));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/^attachment;/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(pdf);
  }, 60_000);

  it("shows the server's ValidationError for a file it cannot read, and refuses a file over the server's EVIDENCE_MAX_BYTES before sending it", async () => {
    const form = page.locator("form.add-document");
    const rows = await page.locator(".evidence li").count();
    // An executable's bytes named .pdf: the server sniffs the bytes, not the name.
    const exe = Buffer.concat([Buffer.from("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "latin1"), Buffer.alloc(2048, 0x90)]);
    await page.getByLabel("File", { exact: true }).setInputFiles({ name: "setup.pdf", mimeType: "application/pdf", buffer: exe });
    await page.getByRole("button", { name: "Add document" }).click();
    await expect.poll(() => form.getByRole("alert").textContent(), WAIT).toMatch(/setup\.pdf.*not a supported file type.*PDF, Word \(\.docx\), PNG, JPEG, TIFF/);
    expect(await page.getByLabel("File", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator(".evidence li").count()).toBe(rows);

    const requests: string[] = [];
    page.on("request", (request) => void (request.method() === "POST" && requests.push(request.url())));
    expect(await form.textContent()).toContain("up to 2 MB");
    // Made in the page (sending megabytes over CDP is slow), then handed to the file input as a picker would.
    await page.getByLabel("File", { exact: true }).evaluate((input: any, size) => {
      const transfer = new (globalThis as any).DataTransfer();
      transfer.items.add(new File([new Uint8Array(size)], "scan.tiff", { type: "image/tiff" }));
      input.files = transfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }, MAX_BYTES + 1);
    await expect.poll(() => form.getByRole("alert").textContent(), WAIT).toBe("“scan.tiff” is 2.1 MB: a file can be at most 2 MB. Split it, or scan it at a lower resolution.");
    await page.getByRole("button", { name: "Add document" }).click();
    expect(await form.getByRole("alert").textContent()).toMatch(/^“scan\.tiff” is 2\.1 MB/);
    expect(requests).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
  }, 30_000);

  it("names the page of a citation from the PDF", async () => {
    const generation = await generate(stack, { studentId });
    const { iep } = await waitForStatus(stack, generation.id, ["SUCCEEDED"], 30_000);
    await page.goto(`${stack.httpUrl}/#/ieps/${iep.id}`);
    // The PDF is the student's only evidence: every citation is one of its pages.
    const cite = page.locator("button.cite").first();
    await cite.waitFor(WAIT);
    expect(await cite.getAttribute("aria-label")).toMatch(/^Source 1: Psychoeducational evaluation, p\. [123]$/);
    await cite.click();
    expect(await page.getByRole("dialog").locator(".meta").textContent()).toMatch(/^Evaluation · p\. [123] · part \d+ of the document$/);
    await page.keyboard.press("Escape");
  }, 45_000);

  it("made no request to another host and logged no errors", () => {
    expect(problems).toEqual([]);
  });
});
