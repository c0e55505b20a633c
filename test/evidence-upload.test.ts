/**
 * Uploading evidence files through GraphQL (the multipart request spec) against a real API and
 * Postgres, without a worker: Node's fetch + FormData and the real `curl -F` store the original
 * bytes with a PENDING row and its ingestion job; every refusal (body and file, neither, too
 * large, empty, unsupported type, too many pages) is a ValidationError and writes nothing.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import JSZip from "jszip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanFilename } from "../src/services/evidence.ts";
import { jobByKey } from "./helpers/jobs.ts";
import { ROOT } from "./helpers/process.ts";
import { createStudentViaApi, startTestStack, type GraphQLResponse, type TestStack } from "./helpers/stack.ts";
import { ADD_EVIDENCE_FILE, fixture } from "./helpers/uploads.ts";

const MAX_BYTES = 64 * 1024;
const MAX_PAGES = 2;
const SUPPORTED = "upload a PDF, Word (.docx), PNG, JPEG, TIFF or plain-text file";

const STORED = /* GraphQL */ `
  query UploadStored($id: ID!) {
    evidence(id: $id) { id status stage pageCount pagesDone body title kind source { filename mediaType byteSize sha256 downloadUrl } }
  }
`;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("evidence uploads", () => {
  let stack: TestStack;
  let studentId: string;

  /** A multipart request per the spec: `operations` (the file variable null), `map`, then part "0" when there is a file. */
  async function post(input: Record<string, unknown>, file?: { bytes: Uint8Array; name: string; type?: string }): Promise<GraphQLResponse> {
    const form = new FormData();
    form.append("operations", JSON.stringify({ query: ADD_EVIDENCE_FILE, variables: { input: { studentId, kind: "EVALUATION", title: "Upload", ...input } } }));
    form.append("map", JSON.stringify(file ? { 0: ["variables.input.file"] } : {}));
    if (file) form.append("0", new Blob([new Uint8Array(file.bytes)], { type: file.type ?? "application/octet-stream" }), file.name);
    const response = await fetch(stack.graphqlUrl, { method: "POST", headers: { authorization: `Bearer ${stack.tenant.token}` }, body: form });
    return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, "status">) };
  }

  /** Rows an upload writes: documents, stored files and ingestion jobs (graphile-worker's public view). */
  async function counts() {
    const { rows } = await stack.runtime.pool.query(
      `select (select count(*)::int from evidence) as evidence, (select count(*)::int from evidence_files) as files,
              (select count(*)::int from graphile_worker.jobs where task_identifier = 'ingest_evidence') as jobs`,
    );
    return rows[0] as { evidence: number; files: number; jobs: number };
  }

  /** Uploads, expects a ValidationError naming `file` (or the given paths), and that nothing was written. */
  async function refused(input: Record<string, unknown>, file: Parameters<typeof post>[1], message: RegExp, paths = [["file"]]) {
    const before = await counts();
    const result = await post(input, file);
    expect(result.errors).toBeUndefined();
    expect(result.data.addEvidence.__typename).toBe("ValidationError");
    expect(result.data.addEvidence.message).toMatch(message);
    expect(result.data.addEvidence.fieldErrors.map((f: { path: string[] }) => f.path)).toEqual(paths);
    expect(await counts()).toEqual(before);
    return result.data.addEvidence.message as string;
  }

  /** The stored row, file bytes and queued job of an accepted upload. */
  async function stored(id: string) {
    const { data } = await stack.gql(STORED, { id });
    const { rows } = await stack.runtime.pool.query("select content from evidence_files where evidence_id = $1", [id]);
    return { evidence: data.evidence, content: new Uint8Array(rows[0].content), job: await jobByKey(stack.runtime.pool, `ingest_evidence:${id}`) };
  }

  beforeAll(async () => {
    stack = await startTestStack({ worker: false, evidenceFiles: { maxBytes: MAX_BYTES, maxPages: MAX_PAGES } });
    studentId = await createStudentViaApi(stack);
  }, 60_000);
  afterAll(() => stack?.close());

  it("tells clients its limits before they upload (evidenceUploadLimits), as configured", async () => {
    const { data, errors } = await stack.gql(`{ evidenceUploadLimits { maxBytes maxPages mediaTypes } }`);
    expect(errors).toBeUndefined();
    expect(data.evidenceUploadLimits).toEqual({
      maxBytes: MAX_BYTES, maxPages: MAX_PAGES,
      mediaTypes: ["application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "image/png", "image/jpeg", "image/tiff", "text/plain"],
    });
  });

  it("stores a file sent with fetch + FormData as PENDING with its source, sniffing the type whatever the client claims", async () => {
    const bytes = fixture("letter.png");
    const result = await post({ title: "Parent letter", kind: "PARENT_INPUT" }, { bytes, name: "letter.pdf", type: "application/pdf" });
    expect(result.errors).toBeUndefined();
    expect(result.data.addEvidence.__typename).toBe("AddEvidenceSuccess");
    const { evidence, content, job } = await stored(result.data.addEvidence.evidence.id);
    expect(evidence).toMatchObject({ status: "PENDING", stage: null, pageCount: null, pagesDone: 0, body: "", title: "Parent letter", kind: "PARENT_INPUT" });
    expect(evidence.source).toMatchObject({ filename: "letter.pdf", mediaType: "image/png", byteSize: bytes.byteLength, sha256: sha256(bytes) });
    expect(evidence.source.downloadUrl).toMatch(new RegExp(`^/evidence/${evidence.id}/download\\?user=.+&expires=\\d+&signature=`));
    expect(content).toEqual(bytes);
    expect(job).toMatchObject({ task_identifier: "ingest_evidence", attempts: 0 });
  });

  it("accepts the curl -F upload the README shows, and cleans the file's name", async () => {
    const operations = JSON.stringify({
      query: "mutation($input: AddEvidenceInput!) { addEvidence(input: $input) { __typename ... on AddEvidenceSuccess { evidence { id source { filename mediaType } } } } }",
      variables: { input: { studentId, kind: "PROGRESS_NOTE", title: "Speech report", file: null } },
    });
    const { stdout } = await promisify(execFile)("curl", [
      "--silent", "--show-error", "--max-time", "20", stack.graphqlUrl,
      "-H", `Authorization: Bearer ${stack.tenant.token}`,
      "-F", `operations=${operations}`,
      "-F", 'map={"0":["variables.input.file"]}',
      "-F", `0=@${join(ROOT, "test/fixtures/evidence/report.docx")};filename=../../Évaluation\u202Egnp.docx`,
    ]);
    const payload = JSON.parse(stdout).data.addEvidence;
    expect(payload.__typename).toBe("AddEvidenceSuccess");
    expect(payload.evidence.source).toEqual({
      filename: "Évaluationgnp.docx", mediaType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    });
    const { content } = await stored(payload.evidence.id);
    expect(sha256(content)).toBe(sha256(fixture("report.docx")));
  });

  it("cleans names: directories, control and bidi characters, length, and a fallback", () => {
    expect(cleanFilename("C:\\Users\\me\\IEP 2025.pdf", "application/pdf")).toBe("IEP 2025.pdf");
    expect(cleanFilename("a\u0000b\u0007c\u202E.txt", "text/plain")).toBe("abc.txt");
    expect(cleanFilename(" ../ ", "image/png")).toBe("document.png");
    expect(cleanFilename("\u0001", "application/pdf")).toBe("document.pdf");
    const long = cleanFilename(`${"é".repeat(300)}.pdf`, "application/pdf");
    expect([...long].length).toBe(255);
    expect(long.endsWith("é.pdf")).toBe(true);
  });

  it("refuses body and file together, and neither", async () => {
    const bytes = fixture("letter.png");
    const both = await refused({ body: "Typed too." }, { bytes, name: "letter.png" }, /either body .* or file .*, not both/, [["body"], ["file"]]);
    expect(both).toMatch(/^Invalid input: body: .*; file: /);
    await refused({}, undefined, /either body \(typed text\) or file \(an upload\)/, [["body"], ["file"]]);
  });

  it("refuses a file over EVIDENCE_MAX_BYTES with its size, and an empty file", async () => {
    const message = await refused({}, { bytes: new Uint8Array(100 * 1024).fill(0x61), name: "notes.txt" }, /^The file is 100 KB; at most 64 KB \(EVIDENCE_MAX_BYTES\)$/);
    expect(message).not.toMatch(/Invalid input/);
    await refused({}, { bytes: new Uint8Array(0), name: "empty.pdf" }, /^The file is empty/);
  });

  it("cuts off a file far over the limit while it streams (413 with a clear error), and a body whose Content-Length is over the limit unread", async () => {
    const before = await counts();
    const result = await post({}, { bytes: new Uint8Array(2 * 1024 * 1024).fill(0x61), name: "huge.txt" });
    expect(result.status).toBe(413);
    expect(result.errors?.[0]).toMatchObject({
      message: "The request is too large: an evidence file may be at most 64 KB (EVIDENCE_MAX_BYTES)",
      extensions: { code: "REQUEST_ENTITY_TOO_LARGE" },
    });
    expect(await counts()).toEqual(before);

    // A client announcing 30 MB is answered at once, before it sends the body.
    const answered = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(stack.graphqlUrl, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.tenant.token}`, "content-type": "multipart/form-data; boundary=x", "content-length": String(30_000_000) },
      }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => {
          resolve({ status: res.statusCode!, body });
          req.destroy();
        });
      });
      req.on("error", reject);
      req.write("--x\r\n");
    });
    expect(answered.status).toBe(413);
    expect(JSON.parse(answered.body).errors[0].message).toMatch(/at most 64 KB \(EVIDENCE_MAX_BYTES\)/);
  });

  it.each([
    ["an ELF executable", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(120).fill(0)]), "tool.pdf"],
    ["random binary", Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256), "scan.tiff"],
    ["an SVG named .pdf", new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'), "evaluation.pdf"],
    ["an HTML page named .pdf", new TextEncoder().encode("<!doctype html><html><body><script>alert(1)</script></body></html>"), "report.pdf"],
  ])("refuses %s whatever its name and Content-Type", async (_label, bytes, name) => {
    const escaped = (text: string) => text.replace(/[.()]/g, "\\$&");
    await refused({}, { bytes, name, type: "application/pdf" }, new RegExp(`^"${escaped(name)}" is not a supported file type; ${escaped(SUPPORTED)}$`));
  });

  it("refuses a zip that is not a Word document", async () => {
    const zip = new JSZip().file("hello.txt", "hello").generateAsync({ type: "uint8array" });
    await refused({}, { bytes: await zip, name: "report.docx" }, /^"report.docx" is a ZIP archive, not a Word document \(\.docx\); upload a PDF/);
  });

  it("refuses a PDF over EVIDENCE_MAX_PAGES with its page count, and accepts one within it", async () => {
    await refused({}, { bytes: fixture("text.pdf"), name: "evaluation.pdf" }, /^The PDF has 3 pages; at most 2 \(EVIDENCE_MAX_PAGES\)$/);
    await refused({}, { bytes: fixture("many-pages.pdf"), name: "claims-100000.pdf" }, /^The PDF has 100000 pages; at most 2/);
    const accepted = await post({}, { bytes: fixture("scanned.pdf"), name: "scanned.pdf" });
    expect(accepted.data.addEvidence.__typename).toBe("AddEvidenceSuccess");
  });

  it("keeps typed text working, and refuses a File variable sent as JSON", async () => {
    const typed = await stack.gql(ADD_EVIDENCE_FILE, { input: { studentId, kind: "OTHER", title: "Typed", body: "Typed note." } });
    expect(typed.data.addEvidence.__typename).toBe("AddEvidenceSuccess");
    expect(typed.data.addEvidence.evidence.source).toBeNull();
    const json = await stack.gql(ADD_EVIDENCE_FILE, { input: { studentId, kind: "OTHER", title: "Not a file", file: "aGVsbG8=" } });
    expect(json.data).toBeUndefined();
    expect(json.errors?.[0]?.message).toMatch(/multipart\/form-data/);
  });
});
