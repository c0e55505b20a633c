/**
 * File evidence end to end: uploads through the API (multipart), ingestion by a real worker in its
 * own process (extraction threads, OCR, embedding against the simulator), progress over graphql-ws,
 * and the text searchable with the page it came from. Hostile files fail alone, with their reason,
 * while a good document ingests beside them and the worker keeps running.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import JSZip from "jszip";
import { demoDocumentPdf } from "../src/cli/demo-files.ts";
import { wsClient } from "./helpers/generation.ts";
import { fixture, uploadEvidence, uploadEvidenceId } from "./helpers/uploads.ts";
import { startWorkerProcess, type WorkerProcess } from "./helpers/worker-process.ts";
import { createStudentViaApi, startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";

const EVIDENCE = /* GraphQL */ `
  query FileEvidence($id: ID!) {
    evidence(id: $id) {
      id status stage error body pageCount pagesDone chunkCount
      source { filename mediaType byteSize sha256 }
      chunks { ordinal page text }
    }
  }
`;
const SEARCH = /* GraphQL */ `
  query FileSearch($studentId: ID!, $query: String!) {
    searchEvidence(studentId: $studentId, query: $query, first: 3) { chunk { page text evidence { id } } }
  }
`;
const STATUS_CHANGES = /* GraphQL */ `
  subscription FileStatusChanges($studentId: ID!) {
    evidenceStatusChanged(studentId: $studentId) { id status stage pageCount pagesDone }
  }
`;

/** The extraction budget of the test's worker: the decompression bomb must end by it. */
const BUDGET_MS = 10_000;

/** A port nothing listens on now (the worker's /healthz and /metrics listener takes it). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A ZIP of something else that passes for Word (its [Content_Types].xml names a Word document, so
 * the upload's sniffing accepts it): only reading it shows there is no document inside.
 */
function fakeDocx(): Promise<Uint8Array> {
  const types = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`;
  return new JSZip().file("[Content_Types].xml", types).file("notes.txt", "Shopping list: milk, eggs.").generateAsync({ type: "uint8array" });
}

interface StatusChange { id: string; status: string; stage: string | null; pageCount: number | null; pagesDone: number }

describe("evidence files", () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let metricsPort: number;
  let studentId: string;

  beforeAll(async () => {
    // The API accepts any page count, so a PDF claiming 100,000 pages reaches the worker's own check.
    stack = await startTestStack({ worker: false, evidenceFiles: { maxPages: 1_000_000 } });
    metricsPort = await freePort();
    worker = await startWorkerProcess(stack.db.url, stack.simulator.url, {
      EXTRACTION_BUDGET_MS: String(BUDGET_MS), EXTRACTION_THREADS: "2", WORKER_CONCURRENCY: "4", WORKER_HEALTH_PORT: String(metricsPort),
    });
    studentId = await createStudentViaApi(stack, { firstName: "Zephyrine", lastName: "Quillfeather" });
  }, 90_000);
  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const evidence = async (id: string) => (await stack.gql(EVIDENCE, { id })).data.evidence;
  const settled = (id: string, timeoutMs = 60_000) =>
    waitFor(async () => {
      const row = await evidence(id);
      return row.status !== "PENDING" && row;
    }, timeoutMs, `evidence ${id} to settle`);
  const search = async (query: string) => (await stack.gql(SEARCH, { studentId, query })).data.searchEvidence;

  it("reads a text PDF, a scanned PDF, a Word document and a photographed page, streaming each step", async () => {
    const client = wsClient(stack);
    const changes: StatusChange[] = [];
    const stop = client.subscribe<{ evidenceStatusChanged: StatusChange }>(
      { query: STATUS_CHANGES, variables: { studentId } },
      { next: ({ data }) => void (data && changes.push(data.evidenceStatusChanged)), error: () => {}, complete: () => {} },
    );
    try {
      const uploads = {
        text: { title: "Psychoeducational evaluation", bytes: fixture("text.pdf"), filename: "evaluation.pdf" },
        scanned: { title: "Scanned speech report", bytes: fixture("scanned.pdf"), filename: "speech.pdf" },
        docx: { title: "Progress report", kind: "PROGRESS_NOTE", bytes: fixture("report.docx"), filename: "progress.docx" },
        png: { title: "Parent letter", kind: "PARENT_INPUT", bytes: fixture("letter.png"), filename: "letter.png", contentType: "application/pdf" },
      };
      const ids = Object.fromEntries(await Promise.all(Object.entries(uploads).map(async ([name, upload]) =>
        [name, await uploadEvidenceId(stack, { studentId, ...upload })] as const)));
      const rows = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, await settled(id)] as const)));

      for (const [name, row] of Object.entries(rows)) expect(row.status, `${name}: ${row.error}`).toBe("READY");
      expect(rows.text.source).toEqual({
        filename: "evaluation.pdf", mediaType: "application/pdf", byteSize: uploads.text.bytes.byteLength,
        sha256: createHash("sha256").update(uploads.text.bytes).digest("hex"),
      });
      expect(rows.png.source.mediaType).toBe("image/png");
      expect(rows.text).toMatchObject({ pageCount: 3, pagesDone: 3, stage: null });
      expect(rows.scanned).toMatchObject({ pageCount: 2 });
      expect(rows.docx).toMatchObject({ pageCount: null });
      expect(rows.text.chunks.map((c: { page: number }) => c.page)).toEqual([1, 2, 3]);
      expect(rows.docx.chunks.every((c: { page: number | null }) => c.page === null)).toBe(true);
      expect(rows.png.chunks.every((c: { page: number | null }) => c.page === 1)).toBe(true);
      expect(rows.text.body).toContain("phonological awareness");

      const expectFound = async (query: string, id: string, page: number | null, word: RegExp) => {
        const hits = await search(query);
        const hit = hits.find((h: { chunk: { evidence: { id: string } } }) => h.chunk.evidence.id === id);
        expect(hit, `"${query}" finds ${id}`).toBeDefined();
        expect(hit.chunk.page).toBe(page);
        expect(hit.chunk.text).toMatch(word);
      };
      await expectFound("phonological awareness", ids.text!, 2, /phonological awareness/i);
      await expectFound("graphic organizer", ids.scanned!, 2, /graphic organizer/i);
      await expectFound("articulation of the r sound", ids.docx!, null, /articulation/i);
      await expectFound("daughter enjoys drawing", ids.png!, 1, /drawing/i);

      const seen = await waitFor(async () => {
        const steps = changes.filter((c) => c.id === ids.scanned);
        return steps.some((c) => c.status === "READY") && steps;
      }, 10_000, "the scanned PDF's READY event");
      expect(seen.some((c) => c.stage === "EXTRACTING" && c.pageCount === 2)).toBe(true);
      expect(seen.some((c) => c.stage === "EMBEDDING")).toBe(true);
      expect(seen.map((c) => c.pagesDone)).toEqual([...seen.map((c) => c.pagesDone)].sort((a, b) => a - b));
    } finally {
      stop();
      await client.dispose();
    }
  });

  it("fails each hostile file with its reason while a good document ingests beside them, and the worker carries on", async () => {
    const hostile = {
      "encrypted.pdf": /^The PDF is encrypted \(password-protected\)/,
      "many-pages.pdf": /^The PDF has 100000 pages; at most 200 \(EVIDENCE_MAX_PAGES\)/,
      "bomb.pdf": /more than 200 MB when decompressed \(EVIDENCE_MAX_UNCOMPRESSED_BYTES\)/,
      "truncated.pdf": /^The PDF is incomplete/,
      "huge.png": /^The image is 30000 × 30000 pixels; at most 50 megapixels \(EVIDENCE_MAX_IMAGE_PIXELS\)/,
    };
    const other = await createStudentViaApi(stack, { firstName: "Bo", lastName: "Goodfile" });
    const files: Record<string, Uint8Array> = { ...Object.fromEntries(Object.keys(hostile).map((name) => [name, fixture(name)])), "fake.docx": await fakeDocx() };
    const reasons: Record<string, RegExp> = { ...hostile, "fake.docx": /^The file is a ZIP archive but not a Word document \(\.docx\)/ };
    const ids = await Promise.all(Object.entries(files).map(([name, bytes]) =>
      uploadEvidenceId(stack, { studentId, title: `Hostile ${name}`, bytes, filename: name })));
    const good = await uploadEvidenceId(stack, { studentId: other, title: "Good evaluation", bytes: fixture("text.pdf"), filename: "good.pdf" });

    expect((await settled(good, 60_000)).status).toBe("READY");
    const results = await Promise.all(ids.map((id) => settled(id, BUDGET_MS * 4)));
    Object.values(reasons).forEach((reason, i) => {
      expect(results[i].status, Object.keys(reasons)[i]).toBe("FAILED");
      expect(results[i].error).toMatch(reason);
      expect(results[i].chunkCount).toBe(0);
    });
    expect(worker.hasExited()).toBe(false);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^iepgen_extraction_duration_seconds_count\{media_type="application\/pdf",outcome="ENCRYPTED"\} 1$/m);
    expect(metrics).toMatch(/^iepgen_extraction_duration_seconds_count\{media_type="image\/png",outcome="IMAGE_TOO_LARGE"\} 1$/m);
    expect(metrics).toMatch(/^iepgen_extraction_pages_total\{media_type="application\/pdf"\} [1-9]\d*$/m);
  });

  it("reads a file once: after a Gemini outage while embedding, the next attempt reuses the text already read", async () => {
    const readsOf = async (mediaType: string) => {
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const pattern = new RegExp(`^iepgen_extraction_duration_seconds_count\\{media_type="${mediaType.replace("/", "\\/")}",outcome="ok"\\} (\\d+)$`, "m");
      return Number(pattern.exec(metrics)?.[1] ?? 0);
    };
    const before = await readsOf("image/jpeg");
    const embedsBefore = stack.simulator.requests.filter((r) => r.operation === "embed").length;
    stack.simulator.injectFault({ kind: "server_error" }, { times: 4, operation: "embed" }); // the first attempt's call and its 3 retries
    const id = await uploadEvidenceId(stack, { studentId, title: "Photographed letter", kind: "PARENT_INPUT", bytes: fixture("letter.jpg"), filename: "letter.jpg" });
    const row = await settled(id);
    expect(row.status, row.error).toBe("READY");
    expect(row.body).toMatch(/drawing/i);
    expect(stack.simulator.requests.filter((r) => r.operation === "embed").length - embedsBefore).toBeGreaterThanOrEqual(5);
    expect(await readsOf("image/jpeg")).toBe(before + 1);
  });

  it("refuses a ZIP renamed .docx at upload, saying what it is, and writes nothing", async () => {
    const { rows: [before] } = await stack.runtime.pool.query("select count(*)::int as n from evidence");
    const result = await uploadEvidence(stack, { studentId, title: "Renamed zip", bytes: fixture("renamed.docx"), filename: "report.docx" });
    expect(result.data.addEvidence).toMatchObject({
      __typename: "ValidationError",
      message: expect.stringMatching(/"report.docx" is a ZIP archive, not a Word document \(\.docx\)/),
    });
    const { rows: [after] } = await stack.runtime.pool.query("select count(*)::int as n from evidence");
    expect(after.n).toBe(before.n);
  });

  it("pseudonymizes extracted text before Gemini sees it, and keeps the original in the chunks", async () => {
    const from = stack.simulator.requests.length;
    const pdf = await demoDocumentPdf("Psychoeducational evaluation", [
      "Student: Zephyrine Quillfeather.",
      "Zephyrine Quillfeather was referred for slow, effortful reading. Her father, Octavian Quillfeather, reports that Zephyrine avoids homework.",
    ].join("\n\n"));
    const id = await uploadEvidenceId(stack, { studentId, title: "Generated evaluation", bytes: pdf, filename: "eval.pdf" });
    const row = await settled(id);
    expect(row.status).toBe("READY");
    expect(row.chunks.map((c: { text: string }) => c.text).join(" ")).toContain("Quillfeather");
    const sent = stack.simulator.requests.slice(from).filter((r) => r.operation === "embed").map((r) => JSON.stringify(r.body));
    expect(sent.length).toBeGreaterThan(0);
    for (const body of sent) expect(body).not.toMatch(/Quillfeather|Zephyrine/);
  });
});
