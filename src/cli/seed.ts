import { randomUUID } from "node:crypto";
import { signToken, type Viewer } from "../auth.ts";
import { createPool } from "../db/pool.ts";
import { insertSchool, insertUser } from "../db/schools.ts";
import { prepareDatabase } from "../db/setup.ts";
import { env, evidenceFileLimits } from "../env.ts";
import { ExtractionPool } from "../extraction/index.ts";
import { createGemini } from "../gemini/client.ts";
import { resolveGemini } from "../gemini/config.ts";
import { startGeminiServices } from "../gemini/quota.ts";
import { createLogger } from "../logger.ts";
import { addEvidence } from "../services/evidence.ts";
import { ingestEvidence } from "../services/ingestion.ts";
import { setStudentGuardians } from "../services/guardians.ts";
import { createStudent } from "../services/students.ts";
import { parseCliOptions } from "./args.ts";
import { insertAssignment } from "../db/assignments.ts";
import { createIepTemplate } from "../services/templates.ts";
import { demoDocumentDocx, demoDocumentPdf, demoParentLetterPng } from "./demo-files.ts";
import { DEMO_ADMIN, DEMO_CASE_MANAGER, DEMO_SCHOOL_NAME_PREFIX, DEMO_STUDENTS, DEMO_TEACHER, DEMO_TEACHER_STUDENTS, DEMO_TEMPLATE } from "./demo-data.ts";

/**
 * `npm run seed -- --demo`: a new synthetic school (a new tenant every run) with an ADMIN, a case
 * manager (whose caseload is every demo student), a TEACHER assigned the first DEMO_TEACHER_STUDENTS,
 * demo students whose evidence is ingested before it returns (DEMO_FILE_STUDENTS' include files: their
 * evaluation and prior IEP as PDFs, progress notes as Word files and a scanned letter read by OCR), and the school's own IEP template
 * (DEMO_TEMPLATE; `iepTemplates` lists it next to the built-in one). Prints one JSON line:
 * {"token": "<case manager's JWT>", "schoolId": "…", "userId": "<case manager>", "studentIds": ["…"],
 *  "users": {"admin": {"userId", "token"}, "caseManager": {…}, "teacher": {…}}}
 */
const usage = "npm run seed -- --demo";
/**
 * The demo students whose evidence includes files: their evaluation and prior IEP as PDFs and progress
 * notes as Word files (instead of typed text), and a scanned parent letter. Not Nora, whose notes are kept free
 * of "reading fluency" but one (demo-data.ts), nor the teacher's two.
 */
const DEMO_FILE_STUDENTS = new Set(["Jada", "Marcus"]);
const options = parseCliOptions({ demo: { type: "boolean" } }, usage);
if (!options.demo) {
  process.stderr.write(`nothing to do: pass --demo\nusage: ${usage}\n`);
  process.exit(2);
}

const settings = env();
const logger = createLogger(settings.LOG_LEVEL === "info" ? "warn" : settings.LOG_LEVEL, "stderr");
await prepareDatabase(settings.DATABASE_URL, logger);
const gemini = await resolveGemini(settings, logger);
const pool = createPool(settings.DATABASE_URL, 4);
const limits = evidenceFileLimits(settings);
const extraction = new ExtractionPool({
  size: limits.extractionThreads, logger,
  limits: { maxPages: limits.maxPages, budgetMs: limits.extractionBudgetMs, maxImagePixels: limits.maxImagePixels, maxUncompressedBytes: limits.maxUncompressedBytes },
});
try {
  const school = await insertSchool(pool, `${DEMO_SCHOOL_NAME_PREFIX} ${new Date().toISOString().slice(0, 19)}Z`);
  const user = await insertUser(pool, { schoolId: school.id, ...DEMO_CASE_MANAGER, role: "CASE_MANAGER" });
  const viewer: Viewer = { userId: user.id, schoolId: school.id, role: user.role };
  const admin = await insertUser(pool, { schoolId: school.id, ...DEMO_ADMIN, role: "ADMIN" });
  const teacher = await insertUser(pool, { schoolId: school.id, ...DEMO_TEACHER, role: "TEACHER" });
  await createIepTemplate(pool, { userId: admin.id, schoolId: school.id, role: "ADMIN" }, DEMO_TEMPLATE);
  const evidenceIds: string[] = [];
  const studentIds: string[] = [];
  const evidenceOptions = { maxChars: settings.EVIDENCE_MAX_CHARS, log: logger, files: { ...limits, countPdfPages: (bytes: Uint8Array) => extraction.countPdfPages(bytes) } };
  for (const { evidence, guardians, ...student } of DEMO_STUDENTS) {
    const created = await createStudent(pool, viewer, student);
    await setStudentGuardians(pool, viewer, { studentId: created.id, guardians });
    studentIds.push(created.id);
    for (const document of DEMO_FILE_STUDENTS.has(student.firstName) ? await withFiles(evidence) : evidence) {
      const stored = await addEvidence(pool, viewer, { studentId: created.id, ...document }, evidenceOptions);
      evidenceIds.push(stored.id);
    }
  }
  for (const studentId of studentIds.slice(0, DEMO_TEACHER_STUDENTS)) {
    await insertAssignment(pool, { schoolId: school.id, userId: teacher.id, studentId, assignedBy: admin.id });
  }
  process.stderr.write(`seeded ${studentIds.length} students and ${evidenceIds.length} documents; ingesting…\n`);
  // A one-off runner id: if this CLI dies mid-ingestion, a worker's sweeper recovers the documents.
  // The seed's embeddings count against GEMINI_RPM/TPM like every worker's (src/gemini/quota.ts).
  const geminiServices = startGeminiServices(settings.DATABASE_URL, gemini.config.quota, logger);
  const deps = { pool, gemini: createGemini(gemini.config, logger, geminiServices), logger, extraction, runnerId: randomUUID() };
  for (const evidenceId of evidenceIds) {
    const outcome = await ingestEvidence(deps, evidenceId);
    if (outcome === "FAILED") throw new Error(`evidence ${evidenceId} failed to ingest; see the log above`);
    if (outcome === "RESCHEDULED") {
      throw new Error("Gemini failed or is unavailable: the demo evidence is stored and will be ingested by a running worker (npm start) once it recovers");
    }
  }
  deps.gemini.caller.breaker.shutdown();
  await geminiServices.close();
  const token = await signToken(viewer, settings.JWT_SECRET);
  const login = async (u: { id: string; role: Viewer["role"] }) =>
    ({ userId: u.id, token: await signToken({ userId: u.id, schoolId: school.id, role: u.role }, settings.JWT_SECRET) });
  const users = { admin: await login(admin), caseManager: { userId: user.id, token }, teacher: await login(teacher) };
  process.stdout.write(`${JSON.stringify({ token, schoolId: school.id, userId: user.id, studentIds, users })}\n`);
} finally {
  await extraction.close();
  await pool.end();
  await gemini.simulator?.close();
}

type DemoDocument = (typeof DEMO_STUDENTS)[number]["evidence"][number];

/** A student's documents as schools hold them: the evaluation and prior IEP as PDFs, progress notes as Word files, plus a scanned letter from home. */
async function withFiles(evidence: readonly DemoDocument[]) {
  const upload = (bytes: Uint8Array, name: string) => new File([new Uint8Array(bytes)], name);
  const documents = await Promise.all(evidence.map(async ({ body, ...document }) => {
    if (document.kind === "EVALUATION" || document.kind === "PRIOR_IEP") {
      return { ...document, file: upload(await demoDocumentPdf(document.title, body), `${document.kind === "EVALUATION" ? "evaluation" : "prior-iep"}.pdf`) };
    }
    if (document.kind === "PROGRESS_NOTE") return { ...document, file: upload(await demoDocumentDocx(document.title, body), "progress-note.docx") };
    return { ...document, body };
  }));
  return [...documents, { kind: "PARENT_INPUT" as const, title: "Letter from home (scanned)", file: upload(await demoParentLetterPng(), "letter-from-home.png") }];
}
