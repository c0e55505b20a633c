import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertUser } from "../src/db/schools.ts";
import { signPath } from "../src/http/signed-url.ts";
import { IEP_SECTION_KINDS } from "../src/iep/content.ts";
import { DEFAULT_SECTION_LABELS } from "../src/iep/templates.ts";
import { queryDatabase } from "./helpers/database.ts";
import { generate, studentWithEvidence } from "./helpers/generation.ts";
import { startTestStack, TEST_JWT_SECRET, type Tenant, type TestStack } from "./helpers/stack.ts";

const PRINT_IEP = /* GraphQL */ `
  query PrintIep($id: ID!) { iep(id: $id) { id status printUrl sections { kind label content citations { chunkId chunk { text evidence { title } } } } } }
`;
const PRINT_EDIT = /* GraphQL */ `
  mutation PrintEditSection($input: EditIepSectionInput!) { editIepSection(input: $input) { __typename ... on Error { message } } }
`;
const PRINT_SUBMIT = /* GraphQL */ `mutation PrintSubmit($id: ID!) { submitIepForReview(id: $id) { __typename } }`;
const PRINT_APPROVE = /* GraphQL */ `mutation PrintApprove($id: ID!) { approveIep(id: $id) { __typename } }`;

const INJECTION = `<script>alert("x")</script><img src=x onerror=alert(1)> & 'quoted'`;

describe("print view", () => {
  let stack: TestStack;
  let iep: any;
  let path: string;

  const print = (url: string, token?: string | null, init: RequestInit = {}) =>
    fetch(`${stack.httpUrl}${url}`, { ...init, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const exports = async () => (await queryDatabase(stack.db.url, "select * from audit_log where resource_id = $1 and action = 'EXPORTED'", [iep.id])).length;

  beforeAll(async () => {
    stack = await startTestStack();
    const studentId = await studentWithEvidence(stack);
    const generation = await generate(stack, { studentId, academicYear: "2026-2027" }, { async: false });
    const read = async () => (await stack.gql(PRINT_IEP, { id: generation.iep!.id })).data.iep;
    const present = structuredClone((await read()).sections.find((s: { kind: string }) => s.kind === "PRESENT_LEVELS").content);
    present.academicAchievement[0].statement = INJECTION;
    const edited = await stack.gql(PRINT_EDIT, { input: { iepId: generation.iep!.id, section: "PRESENT_LEVELS", content: present } });
    expect(edited.data.editIepSection.__typename).toBe("EditIepSectionSuccess");
    iep = await read();
    path = `/ieps/${iep.id}/print`;
  }, 60_000);
  afterAll(() => stack?.close());

  it("serves the IEP as escaped HTML with a print stylesheet, sections in form order and citations as footnotes", async () => {
    const before = await exports();
    const response = await print(path, stack.tenant.token);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await response.text();

    expect(html).not.toMatch(/<script|<img|onerror=alert\(1\)>/i);
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
    expect(html).toContain("@page");
    expect(html).toContain("Ada Testcase");
    expect(html).toContain("DRAFT");
    expect(html).toContain("Not approved");

    const headings = [...html.matchAll(/<h2>\d+\. ([^<]+)<\/h2>/g)].map((m) => m[1]);
    const present = IEP_SECTION_KINDS.filter((kind) => iep.sections.some((s: { kind: string }) => s.kind === kind));
    expect(headings).toEqual(present.map((kind) => DEFAULT_SECTION_LABELS[kind]));

    const cited = iep.sections.flatMap((s: { citations: { chunkId: string; chunk: { evidence: { title: string } } }[] }) => s.citations);
    const notes = [...html.matchAll(/<li id="note-(\d+)"><cite>([^<]+)<\/cite>, excerpt (\d+) of (\d+)/g)];
    expect(notes.length).toBe(new Set(cited.map((c: { chunkId: string }) => c.chunkId)).size);
    expect(notes.map((n) => Number(n[1]))).toEqual(notes.map((_, i) => i + 1));
    for (const note of notes) expect(cited.map((c: { chunk: { evidence: { title: string } } }) => c.chunk.evidence.title)).toContain(note[2]);
    expect(html).toMatch(/<sup><a href="#note-1">1<\/a><\/sup>/);
    expect(await exports()).toBe(before + 1);
    const head = await print(path, stack.tenant.token, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await exports()).toBe(before + 1);
  });

  it("opens by the signed URL of Iep.printUrl without a header, and refuses a tampered, moved or expired one", async () => {
    const { printUrl } = (await stack.gql(PRINT_IEP, { id: iep.id })).data.iep;
    expect(printUrl.startsWith(`${path}?`)).toBe(true);
    const ok = await print(printUrl);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("Individualized Education Program");

    const url = new URL(printUrl, stack.httpUrl);
    const signature = url.searchParams.get("signature")!;
    url.searchParams.set("signature", `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`);
    expect((await print(`${url.pathname}${url.search}`)).status).toBe(401);
    const other = (await generate(stack, { studentId: (await stack.gql(`query PrintStudentOf($id: ID!) { iep(id: $id) { student { id } } }`, { id: iep.id })).data.iep.student.id }, { async: false })).iep!.id;
    expect((await print(`/ieps/${other}/print${new URL(printUrl, stack.httpUrl).search}`)).status).toBe(401);
    const expired = await print(signPath(path, stack.tenant.userId, TEST_JWT_SECRET, 60_000, Date.now() - 10 * 60_000));
    expect(expired.status).toBe(401);
    expect(await expired.text()).toMatch(/expired/);
    expect((await print(path)).status).toBe(401);
    expect((await print(path, "not-a-token")).status).toBe(401);
    expect((await print(path, stack.tenant.token, { method: "POST" })).status).toBe(405);
  });

  it("is refused across schools and off the caseload, by header and by signed URL", async () => {
    const outsider = await stack.createTenant("ADMIN");
    expect((await print(path, outsider.token)).status).toBe(404);
    expect((await print(signPath(path, outsider.userId, TEST_JWT_SECRET, 60_000))).status).toBe(404);

    const user = await insertUser(stack.runtime.pool, { schoolId: stack.tenant.schoolId, email: "other-cm@example.org", name: "Other CM", role: "CASE_MANAGER" });
    const colleague: Tenant = { schoolId: stack.tenant.schoolId, userId: user.id, token: await signToken({ userId: user.id, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" }, TEST_JWT_SECRET) };
    expect((await print(path, colleague.token)).status).toBe(403);
    expect((await print(signPath(path, colleague.userId, TEST_JWT_SECRET, 60_000))).status).toBe(403);
  });

  it("shows the approver and date once FINAL, and flags a citation whose evidence is gone", async () => {
    expect((await stack.gql(PRINT_SUBMIT, { id: iep.id })).data.submitIepForReview.__typename).toBe("IepReviewSuccess");
    expect((await stack.gql(PRINT_APPROVE, { id: iep.id })).data.approveIep.__typename).toBe("IepReviewSuccess");
    const gone = iep.sections.find((s: { kind: string }) => s.kind === "ANNUAL_GOALS").citations[0].chunkId;
    await queryDatabase(stack.db.url, "delete from evidence_chunks where id = $1", [gone]);

    const html = await (await print(path, stack.tenant.token)).text();
    expect(html).toContain('<span class="status">FINAL</span>');
    expect(html).not.toContain("Not approved");
    expect(html).toMatch(new RegExp(`<dt>Approved</dt><dd>${new Date().toISOString().slice(0, 10)} by Test User</dd>`));
    expect(html).toContain(`<span class="missing">Source missing:</span> the cited evidence (chunk ${gone}) no longer exists.`);
  });
});
