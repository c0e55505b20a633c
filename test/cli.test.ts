import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { GoogleGenAI } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyToken } from "../src/auth.ts";
import { adminQuery, createTestDatabase, emptyTestDatabase, queryDatabase, type TestDatabase } from "./helpers/database.ts";
import { runNode, startNode, type Finished } from "./helpers/process.ts";

const SECRET = "cli-test-secret-that-is-long-enough-for-hs256-0123";
const SLOW_TEST_MS = 120_000;





interface SeedOutput {
  token: string;
  schoolId: string;
  userId: string;
  studentIds: string[];
  users: Record<"admin" | "caseManager" | "teacher", { userId: string; token: string }>;
}

function expectSuccess(result: Finished): void {
  expect({ code: result.code, signal: result.signal, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
}

async function seed(db: TestDatabase): Promise<{ result: Finished; output: SeedOutput }> {
  const result = await runNode(["src/cli/seed.ts", "--demo"], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
  expectSuccess(result);
  expect(result.stdout.endsWith("\n")).toBe(true);
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  return { result, output: JSON.parse(lines[0]!) as SeedOutput };
}

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases) await db.drop();
});

describe("seed --demo", () => {
  let db: TestDatabase;
  let first: { result: Finished; output: SeedOutput };
  let schoolsBefore: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    databases.push(db);
    schoolsBefore = (await queryDatabase(db.url, "select id from schools")).length;
    first = await seed(db);
  }, SLOW_TEST_MS);

  it("prints one JSON line with a token, the school, the user and the students", () => {
    const { output } = first;
    expect(Object.keys(output).sort()).toEqual(["schoolId", "studentIds", "token", "userId", "users"]);
    expect(output.users.caseManager).toEqual({ userId: output.userId, token: output.token });
    expect(output.schoolId).toMatch(/^[0-9a-f-]{36}$/);
    expect(output.userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(output.token.split(".")).toHaveLength(3);
    expect(output.studentIds.length).toBeGreaterThanOrEqual(4);
    expect(new Set(output.studentIds).size).toBe(output.studentIds.length);
  });

  it("announces the Gemini simulator on stderr", () => {
    expect(first.result.stderr).toContain("SIMULATOR");
    expect(first.result.stdout).not.toContain("SIMULATOR");
  });

  it("creates one school with a case manager and its students", async () => {
    const { output } = first;
    const schools = await queryDatabase<{ id: string }>(db.url, "select id from schools");
    expect(schools).toHaveLength(schoolsBefore + 1);
    expect(schools.map((row) => row.id)).toContain(output.schoolId);

    const users = await queryDatabase<{ id: string; role: string }>(db.url, "select id, role from users where school_id = $1", [output.schoolId]);
    expect(users.sort((a, b) => a.role.localeCompare(b.role))).toEqual([
      { id: output.users.admin.userId, role: "ADMIN" },
      { id: output.userId, role: "CASE_MANAGER" },
      { id: output.users.teacher.userId, role: "TEACHER" },
    ]);
    const caseload = async (userId: string) => (await queryDatabase<{ student_id: string }>(db.url,
      "select student_id from student_assignments where user_id = $1", [userId])).map((row) => row.student_id).sort();
    expect(await caseload(output.userId)).toEqual([...output.studentIds].sort());
    expect(await caseload(output.users.teacher.userId)).toEqual(output.studentIds.slice(0, 2).sort());
    expect(await caseload(output.users.admin.userId)).toEqual([]);

    const students = await queryDatabase<{ id: string; age: number }>(
      db.url,
      "select id, extract(year from age(current_date, date_of_birth))::int as age from students where school_id = $1",
      [output.schoolId],
    );
    expect(students.map((row) => row.id).sort()).toEqual([...output.studentIds].sort());
    expect(students.some((row) => row.age >= 16)).toBe(true);
    // Guardians are on the record, so their names are pseudonymized before anything reaches Gemini.
    const guardians = await queryDatabase<{ n: number }>(db.url,
      "select jsonb_array_length(guardians)::int as n from students where school_id = $1", [output.schoolId]);
    expect(guardians.every((row) => row.n >= 1)).toBe(true);
  });

  it("gives each student 3-8 evidence documents, all ingested into chunks", async () => {
    const { output } = first;
    const perStudent = await queryDatabase<{ student_id: string; total: number; ready: number; with_chunks: number; chunks: number; recorded: number }>(
      db.url,
      `select e.student_id,
              count(*)::int as total,
              count(*) filter (where e.status = 'READY')::int as ready,
              count(*) filter (where e.chunk_count > 0)::int as with_chunks,
              sum((select count(*) from evidence_chunks c where c.evidence_id = e.id))::int as chunks,
              sum(e.chunk_count)::int as recorded
         from evidence e where e.school_id = $1 group by e.student_id`,
      [output.schoolId],
    );
    expect(perStudent.map((row) => row.student_id).sort()).toEqual([...output.studentIds].sort());
    for (const row of perStudent) {
      expect(row.total).toBeGreaterThanOrEqual(3);
      expect(row.total).toBeLessThanOrEqual(8);
      expect(row.ready).toBe(row.total);
      expect(row.with_chunks).toBe(row.total);
      // chunk_count matches the chunks actually stored
      expect(row.chunks).toBe(row.recorded);
    }
    const [dims] = await queryDatabase<{ bad: number }>(
      db.url,
      "select count(*) filter (where vector_dims(embedding) <> 768)::int as bad from evidence_chunks where school_id = $1",
      [output.schoolId],
    );
    expect(dims?.bad).toBe(0);
  });

  it("gives two students files read end to end: evaluation and prior IEP PDFs (by page), a Word progress note and a scanned letter (OCR)", async () => {
    const { output } = first;
    const files = await queryDatabase<{ student_id: string; file_media_type: string; page_count: number | null; pages: number[]; body: string }>(
      db.url,
      `select e.student_id, e.file_media_type, e.page_count, e.body,
              array(select distinct c.page from evidence_chunks c where c.evidence_id = e.id and c.page is not null order by 1) as pages
         from evidence e where e.school_id = $1 and e.file_media_type is not null order by e.created_at`,
      [output.schoolId],
    );
    const fileStudents = [...new Set(files.map((f) => f.student_id))];
    expect(fileStudents).toHaveLength(2);
    for (const studentId of fileStudents) {
      expect(output.studentIds).toContain(studentId);
      const own = files.filter((f) => f.student_id === studentId);
      expect(own.map((f) => f.file_media_type).sort()).toEqual([
        "application/pdf", "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "image/png",
      ]);
      for (const pdf of own.filter((f) => f.file_media_type === "application/pdf")) {
        expect(pdf.page_count).toBeGreaterThan(1);
        expect(pdf.pages).toEqual(Array.from({ length: pdf.page_count! }, (_, i) => i + 1));
      }
      expect(own.find((f) => f.file_media_type === "image/png")!.body).toMatch(/spelling/i);
    }
  });

  it("prints a token that verifies for that school and user", async () => {
    const { output } = first;
    await expect(verifyToken(output.token, SECRET)).resolves.toEqual({ userId: output.userId, schoolId: output.schoolId, role: "CASE_MANAGER" });
    await expect(verifyToken(output.token, `${SECRET}-other`)).rejects.toThrow();
    await expect(verifyToken(output.users.admin.token, SECRET)).resolves.toEqual({ userId: output.users.admin.userId, schoolId: output.schoolId, role: "ADMIN" });
    await expect(verifyToken(output.users.teacher.token, SECRET)).resolves.toEqual({ userId: output.users.teacher.userId, schoolId: output.schoolId, role: "TEACHER" });
  });

  it("creates a new tenant on every run", async () => {
    const second = await seed(db);
    expect(second.output.schoolId).not.toBe(first.output.schoolId);
    expect(second.output.userId).not.toBe(first.output.userId);
    expect(second.output.studentIds.filter((id) => first.output.studentIds.includes(id))).toEqual([]);
    expect(await queryDatabase(db.url, "select id from schools")).toHaveLength(schoolsBefore + 2);
    await expect(verifyToken(second.output.token, SECRET)).resolves.toMatchObject({ schoolId: second.output.schoolId });
  }, SLOW_TEST_MS);

  it("exits 2 with usage without --demo, and for unknown options, touching nothing", async () => {
    const before = (await queryDatabase(db.url, "select id from schools")).length;
    for (const args of [[], ["--bogus"]]) {
      const result = await runNode(["src/cli/seed.ts", ...args], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("usage: npm run seed -- --demo");
      expect(result.stdout).toBe("");
    }
    expect(await queryDatabase(db.url, "select id from schools")).toHaveLength(before);
  }, SLOW_TEST_MS);
});

describe("token", () => {
  let db: TestDatabase;
  let seeded: SeedOutput;

  beforeAll(async () => {
    db = await createTestDatabase();
    databases.push(db);
    seeded = (await seed(db)).output;
  }, SLOW_TEST_MS);

  it("prints a token for an existing user", async () => {
    const result = await runNode(["src/cli/token.ts", "--user", seeded.userId], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
    expectSuccess(result);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    await expect(verifyToken(lines[0]!, SECRET)).resolves.toEqual({ userId: seeded.userId, schoolId: seeded.schoolId, role: "CASE_MANAGER" });
  });

  it("honours --expires", async () => {
    const result = await runNode(["src/cli/token.ts", "--user", seeded.userId, "--expires", "1h"], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
    expectSuccess(result);
    const payload = JSON.parse(Buffer.from(result.stdout.trim().split(".")[1]!, "base64url").toString()) as { iat: number; exp: number };
    expect(payload.exp - payload.iat).toBe(3600);
  });

  it("refuses an --expires longer than JWT_MAX_TTL (the API would refuse the token)", async () => {
    const result = await runNode(["src/cli/token.ts", "--user", seeded.userId, "--expires", "2h"],
      { JWT_SECRET: SECRET, LOG_LEVEL: "warn", DATABASE_URL: db.url, JWT_MAX_TTL: "90m" });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("at most JWT_MAX_TTL (5400 s)");
  });

  it("exits 1 for an unknown user", async () => {
    const unknown = randomUUID();
    const result = await runNode(["src/cli/token.ts", "--user", unknown], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`no user ${unknown}`);
  });

  it.each([[[]], [["--user", "abc"]]])("exits 2 with usage for a missing or malformed --user (%j)", async (args) => {
    const result = await runNode(["src/cli/token.ts", ...args], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("--user must be a user id");
    expect(result.stderr).toContain("usage: npm run token -- --user <user id>");
  });
});

describe("migrate", () => {
  it("creates and migrates a database that does not exist", async () => {
    const db = emptyTestDatabase();
    databases.push(db);
    expect(await adminQuery("select 1 from pg_database where datname = $1", [db.name])).toHaveLength(0);
    const result = await runNode(["src/cli/migrate.ts"], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
    expectSuccess(result);
    expect(result.stderr).toContain("database is up to date");
    expect(await adminQuery("select 1 from pg_database where datname = $1", [db.name])).toHaveLength(1);
    const migrations = await queryDatabase(db.url, "select name from pgmigrations");
    expect(migrations.length).toBeGreaterThan(0);
    expect(await queryDatabase(db.url, "select 1 from information_schema.tables where table_schema = 'public' and table_name = 'evidence_chunks'")).toHaveLength(1);

    // A second run is a no-op.
    const again = await runNode(["src/cli/migrate.ts"], { JWT_SECRET: SECRET, LOG_LEVEL: "warn",  DATABASE_URL: db.url });
    expectSuccess(again);
    expect(await queryDatabase(db.url, "select name from pgmigrations")).toHaveLength(migrations.length);

    await db.drop();
    expect(await adminQuery("select 1 from pg_database where datname = $1", [db.name])).toHaveLength(0);
  }, SLOW_TEST_MS);
});

describe("gemini simulator", () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    child = undefined;
  });

  it("serves the SDK on the port it prints and exits 0 on SIGTERM", async () => {
    const simulator = await startNode(["src/gemini/simulator/main.ts"],
      { JWT_SECRET: SECRET, LOG_LEVEL: "warn", GEMINI_SIMULATOR_PORT: "0" },
      { stream: "stdout", pattern: /listening at (http:\/\/\S+)/ });
    child = simulator.child;
    const url = simulator.ready;
    expect(simulator.stdout()).toContain("SIMULATOR (not Google)");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);

    const ai = new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: url, apiVersion: "v1beta" } });
    const response = await ai.models.embedContent({
      model: "gemini-embedding-001",
      contents: ["hello"],
      config: { outputDimensionality: 768 },
    });
    const values = response.embeddings?.[0]?.values ?? [];
    expect(values).toHaveLength(768);
    expect(values.every((value) => Number.isFinite(value))).toBe(true);
    expect(values.some((value) => value !== 0)).toBe(true);

    simulator.child.kill("SIGTERM");
    expect(await simulator.exited).toEqual({ code: 0, signal: null });
    expect(simulator.stdout()).toContain("received SIGTERM");
  }, SLOW_TEST_MS);
});
