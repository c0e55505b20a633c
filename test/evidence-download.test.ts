/**
 * Downloading an evidence document's original file, GET /evidence/<id>/download, against a real
 * API and Postgres: by `EvidenceSource.downloadUrl` (signed, 5 minutes) or a bearer token, with
 * the exact bytes and headers that keep a browser from rendering them; refused (404, as if it did
 * not exist) across schools and off a caseload; 401 for a forged or expired link; audited.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertAssignment } from "../src/db/assignments.ts";
import { insertUser } from "../src/db/schools.ts";
import { contentDisposition, downloadFilename } from "../src/http/download.ts";
import { signPath } from "../src/http/signed-url.ts";
import { queryDatabase } from "./helpers/database.ts";
import { createStudentViaApi, startTestStack, TEST_JWT_SECRET, type TestStack } from "./helpers/stack.ts";
import { ADD_EVIDENCE_FILE, fixture, uploadEvidenceId } from "./helpers/uploads.ts";

const SOURCE = /* GraphQL */ `query DownloadSource($id: ID!) { evidence(id: $id) { source { filename mediaType sha256 downloadUrl } } }`;

describe("evidence downloads", () => {
  let stack: TestStack;
  let studentId: string;
  let pngId: string;
  let path: string;
  const png = fixture("letter.png");

  const download = (url: string, token?: string | null, init: RequestInit = {}) =>
    fetch(`${stack.httpUrl}${url}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const exports = async (id: string) =>
    (await queryDatabase(stack.db.url, "select 1 from audit_log where resource_id = $1 and action = 'EXPORTED'", [id])).length;
  const sourceOf = async (id: string, token?: string) => (await stack.gql(SOURCE, { id }, token)).data.evidence.source;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    studentId = await createStudentViaApi(stack);
    pngId = await uploadEvidenceId(stack, { studentId, title: "Parent letter", bytes: png, filename: "Lettre «élève» 2025.pdf", contentType: "application/pdf" });
    path = `/evidence/${pngId}/download`;
  }, 60_000);
  afterAll(() => stack?.close());

  it("serves the original bytes by the signed downloadUrl, as an attachment that cannot render, and audits it", async () => {
    const source = await sourceOf(pngId);
    expect(source.downloadUrl.startsWith(`${path}?`)).toBe(true);
    // Without compression (a client that does not accept it): the stored bytes, with their length.
    const response = await download(source.downloadUrl, null, { headers: { "accept-encoding": "identity" } });
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      "content-type": "image/png",
      "content-length": String(png.byteLength),
      "content-disposition": `attachment; filename="Lettre _eleve_ 2025.png"; filename*=UTF-8''Lettre%20%C2%AB%C3%A9l%C3%A8ve%C2%BB%202025.png`,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
      "content-security-policy": "default-src 'none'; sandbox",
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(source.sha256);
    expect(bytes).toEqual(png);
    expect(await exports(pngId)).toBe(1);

    const head = await download(source.downloadUrl, null, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await exports(pngId)).toBe(1);
    const byBearer = await download(path, stack.tenant.token);
    expect(byBearer.status).toBe(200);
    expect(new Uint8Array(await byBearer.arrayBuffer())).toEqual(png);
    expect(await exports(pngId)).toBe(2);
    expect((await download(path, stack.tenant.token, { method: "POST" })).status).toBe(405);
  });

  it("labels plain text as UTF-8 and gives a download the extension of its real type", async () => {
    const text = new TextEncoder().encode("Notes from the IEP meeting: reading goal agreed.\n");
    const id = await uploadEvidenceId(stack, { studentId, title: "Meeting notes", bytes: text, filename: "notes.html", contentType: "text/html" });
    const response = await download((await sourceOf(id)).downloadUrl);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="notes.html.txt"; filename*=UTF-8''notes.html.txt`);
    expect(await response.text()).toBe("Notes from the IEP meeting: reading goal agreed.\n");

    expect(downloadFilename("scan.PDF", "application/pdf")).toBe("scan.PDF");
    expect(downloadFilename("photo.jpeg", "image/jpeg")).toBe("photo.jpeg");
    expect(downloadFilename("scan.pdf", "image/png")).toBe("scan.png");
    expect(contentDisposition(`a"b\\c%d'e.pdf`)).toBe(`attachment; filename="a_b_c_d'e.pdf"; filename*=UTF-8''a%22b%5Cc%25d%27e.pdf`);
  });

  it("refuses a forged, moved or expired link (401) and a missing token", async () => {
    const url = new URL((await sourceOf(pngId)).downloadUrl, stack.httpUrl);
    const signature = url.searchParams.get("signature")!;
    url.searchParams.set("signature", `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`);
    expect((await download(`${url.pathname}${url.search}`)).status).toBe(401);
    const other = await uploadEvidenceId(stack, { studentId, title: "Other", bytes: fixture("scanned-page.png"), filename: "page.png" });
    expect((await download(`/evidence/${other}/download${new URL((await sourceOf(pngId)).downloadUrl, stack.httpUrl).search}`)).status).toBe(401);
    const expired = await download(signPath(path, stack.tenant.userId, TEST_JWT_SECRET, 60_000, Date.now() - 10 * 60_000));
    expect(expired.status).toBe(401);
    expect(await expired.text()).toMatch(/expired/);
    expect((await download(path)).status).toBe(401);
    expect((await download(path, "not-a-token")).status).toBe(401);
  });

  it("answers 404 to another school (bearer or signed), to a teacher off the caseload, and for typed or unknown evidence", async () => {
    const before = await exports(pngId);
    const outsider = await stack.createTenant("ADMIN");
    expect((await download(path, outsider.token)).status).toBe(404);
    expect((await download(signPath(path, outsider.userId, TEST_JWT_SECRET, 60_000))).status).toBe(404);

    const user = await insertUser(stack.runtime.pool, { schoolId: stack.tenant.schoolId, email: "teacher@example.org", name: "Teacher", role: "TEACHER" });
    const teacher = await signToken({ userId: user.id, schoolId: stack.tenant.schoolId, role: "TEACHER" }, TEST_JWT_SECRET);
    expect((await download(path, teacher)).status).toBe(404);
    expect((await download(signPath(path, user.id, TEST_JWT_SECRET, 60_000))).status).toBe(404);
    expect(await exports(pngId)).toBe(before);
    await insertAssignment(stack.runtime.pool, { schoolId: stack.tenant.schoolId, userId: user.id, studentId, assignedBy: null });
    expect((await download(path, teacher)).status).toBe(200);

    const typed = await stack.gql(ADD_EVIDENCE_FILE, { input: { studentId: await createStudentViaApi(stack), kind: "OTHER", title: "Typed", body: "Typed." } });
    expect((await download(`/evidence/${typed.data.addEvidence.evidence.id}/download`, stack.tenant.token)).status).toBe(404);
    expect((await download("/evidence/00000000-0000-4000-8000-000000000000/download", stack.tenant.token)).status).toBe(404);
    expect((await download("/evidence/not-an-id/download", stack.tenant.token)).status).toBe(404);
  });
});
