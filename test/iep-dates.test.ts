import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkIepContent, datesInText, iepDateProblems, resolveIepDates, type IepPeriod } from "../src/iep/rules.ts";
import { iepSettings } from "../src/services/generation/request.ts";
import { GENERATE_IEP, studentWithEvidence } from "./helpers/generation.ts";
import { addReadyEvidence, startTestStack, type TestStack } from "./helpers/stack.ts";

describe("IEP dates: defaults and rules", () => {
  it("derives missing dates from today within the academic year, else from its first day", () => {
    expect(resolveIepDates({}, "2026-2027", "2026-11-27"))
      .toEqual({ meetingDate: "2026-11-27", effectiveDate: "2026-11-27", annualReviewDate: "2027-11-26" });
    expect(resolveIepDates({}, "2028-2029", "2026-11-27"))
      .toEqual({ meetingDate: "2028-08-15", effectiveDate: "2028-08-15", annualReviewDate: "2029-08-14" });
    expect(resolveIepDates({ meetingDate: "2027-01-10" }, "2026-2027", "2026-11-27"))
      .toEqual({ meetingDate: "2027-01-10", effectiveDate: "2027-01-10", annualReviewDate: "2028-01-09" });
    expect(resolveIepDates({ effectiveDate: "2026-09-01" }, "2026-2027", "2026-11-27"))
      .toEqual({ meetingDate: "2026-09-01", effectiveDate: "2026-09-01", annualReviewDate: "2027-08-31" });
    expect(resolveIepDates({ effectiveDate: "2028-02-29" }, "2027-2028", "2026-11-27").annualReviewDate).toBe("2029-02-27");
    expect(iepDateProblems({ meetingDate: "2028-02-29", effectiveDate: "2028-02-29", annualReviewDate: "2029-03-01" })[0]!.message)
      .toMatch(/at the latest 2029-02-28/);
  });

  it("takes the academic year from the dates when none is given", () => {
    const now = new Date("2026-11-27T12:00:00Z");
    expect(iepSettings({ effectiveDate: "2027-09-01" }, now)).toMatchObject({ academicYear: "2027-2028", effectiveDate: "2027-09-01" });
    expect(iepSettings({ effectiveDate: "2027-08-05" }, now)).toMatchObject({ academicYear: "2027-2028", effectiveDate: "2027-08-05" });
    expect(iepSettings({}, now)).toMatchObject({ academicYear: "2026-2027", meetingDate: "2026-11-27" });
  });

  it("requires effective ≥ meeting, and an annual review after the effective date and within a year of it", () => {
    const ok = { meetingDate: "2027-01-10", effectiveDate: "2027-01-20", annualReviewDate: "2028-01-20" };
    expect(iepDateProblems(ok)).toEqual([]);
    expect(iepDateProblems({ ...ok, effectiveDate: "2027-01-09", annualReviewDate: "2028-01-08" }).map((p) => p.field)).toEqual(["effectiveDate"]);
    expect(iepDateProblems({ ...ok, annualReviewDate: "2027-01-20" }).map((p) => p.field)).toEqual(["annualReviewDate"]);
    expect(iepDateProblems({ ...ok, annualReviewDate: "2028-01-21" })[0]!.message).toMatch(/within one year/);
    expect(iepDateProblems(ok, "2026-2027")).toEqual([]);
    expect(iepDateProblems(ok, "2027-2028")[0]).toMatchObject({ field: "effectiveDate", message: expect.stringMatching(/academic year 2027-2028/) });
  });

  it("finds the dates a goal's timeframe names, and the rules refuse one after the annual review", () => {
    expect(datesInText("By January 15, 2028 (2028-01-15), the annual review")).toEqual(["2028-01-15", "2028-01-15"]);
    const period: IepPeriod = { academicYear: "2026-2027", startDate: "2027-01-20", endDate: "2028-01-15" };
    const goals = { goals: [{ timeframe: "By March 3, 2028", citations: [] }] };
    const content = { annualGoals: goals, assessmentParticipation: { participation: "GENERAL" }, services: { specialEducation: [], relatedServices: [] } };
    const violations = checkIepContent(content as never, { requirements: { transition: false, transferOfRights: false }, allowedChunkIds: new Set(), period });
    expect(violations.map((v) => v.path)).toContain("annualGoals.goals[0].timeframe");
  });
});

const GENERATION = /* GraphQL */ `
  query DatesGeneration($id: ID!) {
    generation(id: $id) {
      status error meetingDate effectiveDate annualReviewDate evidenceKinds
      iep { id meetingDate effectiveDate annualReviewDate content sections { citations { chunkId chunk { evidence { id kind } } } } }
    }
  }
`;

describe("IEP dates and evidence choice, with the real stack", () => {
  let stack: TestStack;
  let studentId: string;
  let priorIep: string;

  const generationCount = async () => Number((await stack.runtime.pool.query("select count(*) from generations")).rows[0].count);
  async function generateNow(input: Record<string, unknown>) {
    const result = await stack.gql(GENERATE_IEP, { input: { studentId, ...input }, async: false });
    if (!result.data) throw new Error(JSON.stringify(result.errors));
    return result.data.generateIep;
  }

  beforeAll(async () => {
    stack = await startTestStack();
    studentId = await studentWithEvidence(stack);
    priorIep = await addReadyEvidence(stack, studentId, {
      kind: "PRIOR_IEP", title: "Last year's IEP",
      body: "Prior IEP goal: decoding CVC words with 70% accuracy; baseline 45% accuracy on nonsense word fluency in September.",
    });
  }, 60_000);
  afterAll(() => stack?.close());

  it("stores the dates on the generation and the IEP; services and goal timeframes follow them", async () => {
    const dates = { meetingDate: "2027-01-10", effectiveDate: "2027-01-20", annualReviewDate: "2028-01-15" };
    const payload = await generateNow({ academicYear: "2026-2027", ...dates });
    expect(payload.__typename).toBe("GenerateIepSuccess");
    const generation = (await stack.gql(GENERATION, { id: payload.generation.id })).data.generation;
    expect(generation).toMatchObject({ status: "SUCCEEDED", error: null, ...dates, iep: dates });

    const { services, annualGoals } = generation.iep.content;
    for (const item of [...services.specialEducation, ...services.relatedServices]) {
      expect(item.startDate >= dates.effectiveDate && item.endDate <= dates.annualReviewDate && item.startDate <= item.endDate).toBe(true);
    }
    expect(services.specialEducation[0]).toMatchObject({ startDate: dates.effectiveDate, endDate: dates.annualReviewDate });
    for (const goal of annualGoals.goals) expect(datesInText(goal.timeframe)).toEqual([dates.annualReviewDate]);
  });

  it("refuses dates that break the rules with a ValidationError, and writes nothing", async () => {
    const before = await generationCount();
    const cases: [Record<string, unknown>, string][] = [
      [{ meetingDate: "2027-01-10", effectiveDate: "2027-01-09" }, "effectiveDate"],
      [{ effectiveDate: "2027-01-20", annualReviewDate: "2027-01-20" }, "annualReviewDate"],
      [{ effectiveDate: "2027-01-20", annualReviewDate: "2028-01-21" }, "annualReviewDate"],
      [{ academicYear: "2026-2027", effectiveDate: "2028-01-20" }, "effectiveDate"],
      [{ evidenceKinds: [] }, "evidenceKinds"],
    ];
    for (const [input, field] of cases) {
      const payload = await generateNow(input);
      expect(payload.__typename).toBe("ValidationError");
      expect(payload.fieldErrors.map((f: { path: string[] }) => f.path[0])).toContain(field);
    }
    const batch = await stack.gql(/* GraphQL */ `
      mutation DatesBatch($input: GenerateIepsInput!) { generateIeps(input: $input) { __typename } }
    `, { input: { studentIds: [studentId], meetingDate: "2027-02-01", effectiveDate: "2027-01-01" } });
    expect(batch.data.generateIeps.__typename).toBe("ValidationError");
    const badScalar = await stack.gql(GENERATE_IEP, { input: { studentId, meetingDate: "2027-02-30" } });
    expect(badScalar.errors?.[0]?.message).toMatch(/LocalDate|date/i);
    expect(await generationCount()).toBe(before);
  });

  it("leaves prior IEPs out when evidenceKinds does: none retrieved, none cited", async () => {
    const { rows } = await stack.runtime.pool.query("select id from evidence_chunks where evidence_id = $1", [priorIep]);
    const priorChunks = rows.map((r) => r.id as string);
    expect(priorChunks.length).toBeGreaterThan(0);

    const draftPrompts = (from: number) =>
      JSON.stringify(stack.simulator.requests.slice(from).filter((r) => r.operation !== "embed").map((r) => r.body));
    const allBefore = stack.simulator.requests.length;
    const withAll = await generateNow({});
    const allView = (await stack.gql(GENERATION, { id: withAll.generation.id })).data.generation;
    expect(allView).toMatchObject({ status: "SUCCEEDED", evidenceKinds: null });
    expect(draftPrompts(allBefore)).toContain("Last year's IEP");

    const kinds = ["EVALUATION", "PROGRESS_NOTE", "TEACHER_OBSERVATION", "PARENT_INPUT", "ASSESSMENT", "OTHER"];
    const requestsBefore = stack.simulator.requests.length;
    const payload = await generateNow({ evidenceKinds: kinds });
    const generation = (await stack.gql(GENERATION, { id: payload.generation.id })).data.generation;
    expect(generation).toMatchObject({ status: "SUCCEEDED", evidenceKinds: kinds });
    const citedKinds = generation.iep.sections.flatMap((s: { citations: { chunk: { evidence: { kind: string } } }[] }) =>
      s.citations.map((c) => c.chunk.evidence.kind));
    expect(citedKinds.length).toBeGreaterThan(0);
    expect(citedKinds).not.toContain("PRIOR_IEP");
    const prompts = draftPrompts(requestsBefore);
    for (const id of priorChunks) expect(prompts).not.toContain(id);
    expect(prompts).not.toContain("Last year's IEP");

    const priorOnlyStudent = await studentWithEvidence(stack);
    const none = (await stack.gql(GENERATE_IEP, { input: { studentId: priorOnlyStudent, evidenceKinds: ["PRIOR_IEP"] }, async: false })).data.generateIep;
    const failed = (await stack.gql(GENERATION, { id: none.generation.id })).data.generation;
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/no READY evidence of the kinds asked for \(PRIOR_IEP\)/);
  });
});
