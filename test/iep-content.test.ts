import { describe, expect, it } from "vitest";
import { citedChunkIds, IEP_SECTION_KINDS, IepContent, SECTION_FIELD, SECTION_SCHEMAS } from "../src/iep/content.ts";
import { buildIepPrompt, SECTION_RETRIEVAL_QUERIES, type PromptChunk } from "../src/iep/prompt.ts";
import {
  ageOn,
  checkIepContent,
  checkSectionContent,
  defaultAcademicYear,
  iepContentSchemaFor,
  iepPeriod,
  responseJsonSchema,
  sectionRequirements,
  sectionSchemaFor,
  type SectionRequirements,
} from "../src/iep/rules.ts";

const CHUNK_A = "0b6c6f0e-3a1d-4c2b-9f4e-1a2b3c4d5e6f";
const CHUNK_B = "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const CHUNK_C = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const FOREIGN = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6";
const ALLOWED = new Set([CHUNK_A, CHUNK_B, CHUNK_C]);

const NONE: SectionRequirements = { transition: false, transferOfRights: false };
const BOTH: SectionRequirements = { transition: true, transferOfRights: true };

const TRANSITION = {
  postsecondaryGoals: {
    education: "After high school, Sam will enrol in a culinary arts certificate program at a community college.",
    employment: "After completing the program, Sam will work part-time in a restaurant kitchen.",
    independentLiving: null,
  },
  transitionServices: ["Career exploration course", "Job shadowing at a local restaurant"],
  courseOfStudy: "Standard diploma with culinary career and technical education electives",
  ageAppropriateAssessments: ["Interest inventory (grade 10)"],
};

const TRANSFER = {
  ageOfMajority: 18,
  statement: "Sam and the parents were informed that rights under IDEA transfer to Sam at age 18.",
};

function validContent(): IepContent {
  return {
    presentLevels: {
      academicAchievement: [
        { statement: "Sam reads 62 words correct per minute on grade-level passages.", citations: [CHUNK_A] },
      ],
      functionalPerformance: [
        { statement: "Sam initiates tasks after one adult prompt in 3 of 5 observations.", citations: [CHUNK_B, CHUNK_A] },
      ],
      disabilityImpact: {
        statement: "Sam's reading disability limits access to grade-level texts in science and social studies.",
        citations: [CHUNK_C],
      },
    },
    annualGoals: {
      goals: [
        {
          area: "Reading fluency",
          baseline: "62 words correct per minute on grade-level passages",
          condition: "Given a grade-level passage",
          behavior: "Sam will read aloud",
          criterion: "90 words correct per minute in 4 of 5 weekly probes",
          measurementMethod: "Weekly curriculum-based measurement probes",
          timeframe: "By the annual IEP review",
          citations: [CHUNK_A],
          shortTermObjectives: [],
        },
      ],
    },
    progressReporting: { method: "Curriculum-based measurement graphs", frequency: "Quarterly, with report cards" },
    services: {
      specialEducation: [
        {
          service: "Specialized reading instruction",
          provider: "Special education teacher",
          frequency: "5 times per week",
          durationMinutes: 45,
          location: "Resource room",
          startDate: "2026-08-20",
          endDate: "2027-06-15",
        },
      ],
      relatedServices: [],
      supplementaryAids: ["Audiobooks for content-area texts"],
      programModifications: [],
      personnelSupports: ["Consultation with the reading specialist"],
    },
    leastRestrictiveEnvironment: {
      percentTimeInGeneralEducation: 85,
      explanation: "Sam leaves the general education classroom for 45 minutes daily for reading instruction.",
    },
    assessmentParticipation: {
      participation: "GENERAL_WITH_ACCOMMODATIONS",
      accommodations: ["Text-to-speech for non-reading sections"],
      alternateAssessmentJustification: null,
    },
    transition: null,
    transferOfRights: null,
  };
}

const context = (requirements: SectionRequirements = NONE) => ({ requirements, allowedChunkIds: ALLOWED });

describe("iepPeriod", () => {
  it("runs one year from August 15", () => {
    expect(iepPeriod("2026-2027")).toEqual({ academicYear: "2026-2027", startDate: "2026-08-15", endDate: "2027-08-14" });
  });

  it.each(["2026-2028", "2027-2026", "2026-2026", "2026/2027", "26-27", "2026-2027 ", "", "abcd-efgh"])(
    "throws on the malformed year %j",
    (year) => {
      expect(() => iepPeriod(year)).toThrow(/academic year/);
    },
  );
});

describe("defaultAcademicYear", () => {
  it.each([
    ["2026-08-01T00:00:00Z", "2026-2027"],
    ["2026-07-31T23:59:59Z", "2025-2026"],
    ["2026-12-31T12:00:00Z", "2026-2027"],
    ["2027-01-01T00:00:00Z", "2026-2027"],
    ["2026-03-15T10:00:00Z", "2025-2026"],
  ])("on %s is %s", (date, year) => {
    expect(defaultAcademicYear(new Date(date))).toBe(year);
  });

  it("rejects an invalid date", () => {
    expect(() => defaultAcademicYear(new Date("nope"))).toThrow();
  });
});

describe("sectionRequirements", () => {
  const period = iepPeriod("2026-2027");

  it("requires nothing extra for a 10-year-old", () => {
    expect(sectionRequirements("2016-03-01", period)).toEqual({ transition: false, transferOfRights: false });
  });

  it("requires transition for a student turning 16 during the IEP", () => {
    expect(ageOn("2011-01-10", period.startDate)).toBe(15);
    expect(sectionRequirements("2011-01-10", period)).toEqual({ transition: true, transferOfRights: false });
  });

  it("counts the last day of the IEP: turning 16 on 2027-08-14 requires transition, on 2027-08-15 does not", () => {
    expect(sectionRequirements("2011-08-14", period).transition).toBe(true);
    expect(sectionRequirements("2011-08-15", period).transition).toBe(false);
  });

  it("requires both for a 17-year-old", () => {
    expect(sectionRequirements("2009-05-20", period)).toEqual({ transition: true, transferOfRights: true });
  });

  it("throws on a malformed date of birth", () => {
    expect(() => sectionRequirements("2010-02-30", period)).toThrow(/Malformed date/);
  });
});

describe("IEP content schema", () => {
  it("parses a full valid IEP", () => {
    expect(IepContent.parse(validContent())).toEqual(validContent());
    expect(IepContent.safeParse({ ...validContent(), transition: TRANSITION, transferOfRights: TRANSFER }).success).toBe(true);
  });

  it("fails without citations", () => {
    const empty = validContent();
    empty.presentLevels.academicAchievement[0]!.citations = [];
    expect(IepContent.safeParse(empty).success).toBe(false);

    const missing: any = validContent();
    delete missing.annualGoals.goals[0].citations;
    const result = IepContent.safeParse(missing);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["annualGoals", "goals", 0, "citations"]);
  });

  it("rejects non-UUID citations, blank strings, bad dates and out-of-range numbers", () => {
    const cases: Array<(c: any) => void> = [
      (c) => (c.presentLevels.disabilityImpact.citations = ["chunk-1"]),
      (c) => (c.progressReporting.method = "   "),
      (c) => (c.services.specialEducation[0].startDate = "2026-13-01"),
      (c) => (c.services.specialEducation[0].durationMinutes = 0),
      (c) => (c.services.specialEducation[0].durationMinutes = 12.5),
      (c) => (c.leastRestrictiveEnvironment.percentTimeInGeneralEducation = 101),
      (c) => (c.assessmentParticipation.participation = "NONE"),
      (c) => (c.annualGoals.goals = []),
      (c) => (c.services.specialEducation = []),
    ];
    for (const mutate of cases) {
      const content: any = validContent();
      mutate(content);
      expect(IepContent.safeParse(content).success, mutate.toString()).toBe(false);
    }
  });

  it("has one schema and one field per section kind", () => {
    expect(Object.keys(SECTION_SCHEMAS).sort()).toEqual([...IEP_SECTION_KINDS].sort());
    for (const kind of IEP_SECTION_KINDS) {
      expect(Object.keys(IepContent.shape)).toContain(SECTION_FIELD[kind]);
    }
    expect(SECTION_FIELD.PRESENT_LEVELS).toBe("presentLevels");
    expect(SECTION_SCHEMAS.TRANSITION.safeParse(TRANSITION).success).toBe(true);
    expect(SECTION_SCHEMAS.TRANSITION.safeParse(null).success).toBe(false);
  });
});

describe("iepContentSchemaFor", () => {
  it("rejects a transition for a 10-year-old and accepts null", () => {
    const schema = iepContentSchemaFor(NONE);
    expect(schema.safeParse(validContent()).success).toBe(true);
    expect(schema.safeParse({ ...validContent(), transition: TRANSITION }).success).toBe(false);
    expect(schema.safeParse({ ...validContent(), transferOfRights: TRANSFER }).success).toBe(false);
  });

  it("requires a transition for a 16-year-old", () => {
    const schema = iepContentSchemaFor({ transition: true, transferOfRights: false });
    expect(schema.safeParse(validContent()).success).toBe(false);
    const { transition, ...withoutTransition } = validContent();
    expect(schema.safeParse(withoutTransition).success).toBe(false);
    expect(schema.safeParse({ ...validContent(), transition: TRANSITION }).success).toBe(true);
  });

  it("shapes the JSON schema sent to Gemini", () => {
    const none = responseJsonSchema(iepContentSchemaFor(NONE)) as any;
    expect(none.properties.transition.type).toBe("null");
    expect(none.properties.transferOfRights.type).toBe("null");
    const both = responseJsonSchema(iepContentSchemaFor(BOTH)) as any;
    expect(both.properties.transition.type).toBe("object");
    expect(both.properties.transferOfRights.type).toBe("object");
    expect(both.required).toEqual(expect.arrayContaining(["transition", "transferOfRights"]));
  });

  it("gives a section schema per requirements", () => {
    expect(sectionSchemaFor("TRANSITION", NONE).safeParse(null).success).toBe(true);
    expect(sectionSchemaFor("TRANSITION", BOTH).safeParse(TRANSITION).success).toBe(true);
    expect(sectionSchemaFor("TRANSITION", BOTH).safeParse(null).success).toBe(false);
    expect(sectionSchemaFor("SERVICES", NONE).safeParse(validContent().services).success).toBe(true);
  });
});

describe("responseJsonSchema", () => {
  it("is a plain JSON object Gemini accepts", () => {
    const schema = responseJsonSchema(IepContent);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect(Object.getPrototypeOf(schema)).toBe(Object.prototype);
    expect(schema).toMatchObject({ type: "object" });
    expect(schema).not.toHaveProperty("$schema");
    const text = JSON.stringify(schema);
    expect(text).not.toContain("additionalProperties");
    expect(text).not.toContain('"pattern"');
    expect(text).not.toContain("9007199254740991");
    expect(text).not.toContain("$defs");
    expect(text).toContain('"format":"date"');
  });

  it("keeps descriptions, required fields and bounds", () => {
    const schema = responseJsonSchema(IepContent) as any;
    const goal = schema.properties.annualGoals.properties.goals.items;
    expect(goal.required).toEqual(expect.arrayContaining(["baseline", "criterion", "citations", "shortTermObjectives"]));
    expect(goal.properties.citations.minItems).toBe(1);
    expect(goal.properties.baseline.description).toMatch(/evidence/);
    const lre = schema.properties.leastRestrictiveEnvironment.properties.percentTimeInGeneralEducation;
    expect(lre).toMatchObject({ type: "integer", minimum: 0, maximum: 100 });
    expect(schema.properties.assessmentParticipation.properties.participation.enum).toEqual([
      "GENERAL",
      "GENERAL_WITH_ACCOMMODATIONS",
      "ALTERNATE",
    ]);
  });

  it("works for a single section", () => {
    expect(responseJsonSchema(SECTION_SCHEMAS.SERVICES)).toMatchObject({ type: "object" });
  });
});

describe("checkIepContent", () => {
  it("finds nothing wrong with a valid IEP", () => {
    expect(checkIepContent(validContent(), context())).toEqual([]);
    expect(
      checkIepContent({ ...validContent(), transition: TRANSITION, transferOfRights: TRANSFER }, context(BOTH)),
    ).toEqual([]);
  });

  it("flags a foreign chunk id with its path", () => {
    const content = validContent();
    content.presentLevels.functionalPerformance[0]!.citations = [CHUNK_B, FOREIGN];
    content.annualGoals.goals[0]!.citations = [FOREIGN];
    const violations = checkIepContent(content, context());
    expect(violations.map((v) => v.path)).toEqual([
      "presentLevels.functionalPerformance[0].citations[1]",
      "annualGoals.goals[0].citations[0]",
    ]);
    expect(violations[0]!.message).toContain(FOREIGN);
  });

  it("flags a missing required transition and an unexpected one", () => {
    expect(checkIepContent(validContent(), context({ transition: true, transferOfRights: false }))).toEqual([
      { path: "transition", message: expect.stringMatching(/must include/) },
    ]);
    expect(checkIepContent({ ...validContent(), transition: TRANSITION }, context()).map((v) => v.path)).toEqual([
      "transition",
    ]);
    expect(checkIepContent(validContent(), context({ transition: false, transferOfRights: true })).map((v) => v.path)).toEqual([
      "transferOfRights",
    ]);
  });

  it("requires a justification and short-term objectives for the alternate assessment", () => {
    const content = validContent();
    content.assessmentParticipation = { participation: "ALTERNATE", accommodations: [], alternateAssessmentJustification: null };
    expect(checkIepContent(content, context()).map((v) => v.path)).toEqual([
      "annualGoals.goals[0].shortTermObjectives",
      "assessmentParticipation.alternateAssessmentJustification",
    ]);

    content.assessmentParticipation.alternateAssessmentJustification = "Sam has a significant cognitive disability.";
    content.annualGoals.goals[0]!.shortTermObjectives = ["By December, 70 words correct per minute"];
    expect(checkIepContent(content, context())).toEqual([]);
  });

  it("flags a service that starts after it ends", () => {
    const content = validContent();
    content.services.relatedServices = [
      {
        service: "Speech-language therapy",
        provider: "Speech-language pathologist",
        frequency: "Twice a week",
        durationMinutes: 30,
        location: "Therapy room",
        startDate: "2027-01-10",
        endDate: "2026-12-01",
      },
    ];
    expect(checkIepContent(content, context())).toEqual([
      { path: "services.relatedServices[0].endDate", message: expect.stringMatching(/before it starts/) },
    ]);
  });

  it("checks service dates against the IEP period when given one", () => {
    const content = validContent();
    content.services.specialEducation[0]!.endDate = "2027-09-01";
    expect(checkIepContent(content, context())).toEqual([]);
    expect(checkIepContent(content, { ...context(), period: iepPeriod("2026-2027") }).map((v) => v.path)).toEqual([
      "services.specialEducation[0].endDate",
    ]);
  });
});

describe("checkSectionContent", () => {
  it("checks one section's citations, presence and rules", () => {
    const content = validContent();
    expect(checkSectionContent("PRESENT_LEVELS", content.presentLevels, context())).toEqual([]);
    content.presentLevels.disabilityImpact.citations = [FOREIGN];
    expect(checkSectionContent("PRESENT_LEVELS", content.presentLevels, context()).map((v) => v.path)).toEqual([
      "presentLevels.disabilityImpact.citations[0]",
    ]);
    expect(checkSectionContent("TRANSITION", null, context(BOTH)).map((v) => v.path)).toEqual(["transition"]);
    expect(checkSectionContent("TRANSITION", TRANSITION, context(BOTH))).toEqual([]);
    expect(checkSectionContent("TRANSITION", TRANSITION, context()).map((v) => v.path)).toEqual(["transition"]);
    expect(
      checkSectionContent(
        "ASSESSMENT_PARTICIPATION",
        { participation: "ALTERNATE", accommodations: [], alternateAssessmentJustification: " " },
        context(),
      ).map((v) => v.path),
    ).toEqual(["assessmentParticipation.alternateAssessmentJustification"]);
  });

  it("reports schema violations of unvalidated content with paths", () => {
    const violations = checkSectionContent("ANNUAL_GOALS", { goals: [{ area: "Math" }] }, context());
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.map((v) => v.path)).toContain("annualGoals.goals[0].citations");
  });

  it("checks redrafted goals against the existing alternate assessment", () => {
    const existing = validContent();
    existing.assessmentParticipation = {
      participation: "ALTERNATE",
      accommodations: [],
      alternateAssessmentJustification: "Significant cognitive disability.",
    };
    const goals = validContent().annualGoals;
    expect(checkSectionContent("ANNUAL_GOALS", goals, context())).toEqual([]);
    expect(checkSectionContent("ANNUAL_GOALS", goals, { ...context(), existingContent: existing }).map((v) => v.path)).toEqual([
      "annualGoals.goals[0].shortTermObjectives",
    ]);
  });
});

describe("citedChunkIds", () => {
  it("collects ids from nested sections without duplicates, in first-seen order", () => {
    expect(citedChunkIds(validContent().presentLevels)).toEqual([CHUNK_A, CHUNK_B, CHUNK_C]);
    expect(citedChunkIds(validContent())).toEqual([CHUNK_A, CHUNK_B, CHUNK_C]);
    expect(citedChunkIds({ a: [{ b: { citations: [CHUNK_C, CHUNK_C, 7] } }], citations: [CHUNK_A] })).toEqual([CHUNK_C, CHUNK_A]);
  });

  it("is empty for content without citations", () => {
    expect(citedChunkIds(validContent().services)).toEqual([]);
    expect(citedChunkIds(null)).toEqual([]);
    expect(citedChunkIds("text")).toEqual([]);
  });
});

describe("buildIepPrompt", () => {
  const student = {
    firstName: "Sam",
    lastName: "Okonkwo-Reyes",
    grade: "4",
    dateOfBirth: "2016-03-01",
    disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY", "SPEECH_OR_LANGUAGE_IMPAIRMENT"],
    primaryLanguage: "Spanish",
  };
  const chunks: PromptChunk[] = [
    { id: CHUNK_A, evidenceTitle: "Reading CBM, fall", evidenceKind: "ASSESSMENT", text: "Sam read 62 words correct per minute." },
    { id: CHUNK_B, evidenceTitle: "Teacher observation", evidenceKind: "OBSERVATION", text: "Sam started tasks after one prompt." },
    { id: CHUNK_C, evidenceTitle: "Parent input", evidenceKind: "PARENT_INPUT", text: "Sam enjoys cooking with family." },
    { id: CHUNK_A, evidenceTitle: "Reading CBM, fall", evidenceKind: "ASSESSMENT", text: "Sam read 62 words correct per minute." },
  ];
  const period = iepPeriod("2026-2027");
  const CHUNK_ID = /chunk[:= ]\s*([0-9a-f-]{36})/g;

  it("lists every chunk after a `chunk: ` marker, once", () => {
    const { prompt, systemInstruction } = buildIepPrompt({ student, period, requirements: NONE, chunks });
    for (const id of [CHUNK_A, CHUNK_B, CHUNK_C]) {
      expect(prompt).toMatch(new RegExp(`^chunk: ${id}`, "m"));
    }
    expect([...prompt.matchAll(CHUNK_ID)].map((m) => m[1])).toEqual([CHUNK_A, CHUNK_B, CHUNK_C]);
    expect(prompt).toContain("Sam read 62 words correct per minute.");
    expect(prompt).toContain("Reading CBM, fall");
    expect(systemInstruction).toMatch(/300\.320/);
    expect(systemInstruction).toMatch(/case manager/);
    expect(systemInstruction).toMatch(/person-first/);
    expect(systemInstruction).toMatch(/invent/);
  });

  it("never contains the date of birth or last name; gives age, grade and categories", () => {
    const { prompt, systemInstruction } = buildIepPrompt({ student, period, requirements: NONE, chunks, instructions: "Focus on reading." });
    const all = `${systemInstruction}\n${prompt}`;
    expect(all).not.toContain(student.dateOfBirth);
    expect(all).not.toContain(student.lastName);
    expect(prompt).toContain("Sam");
    expect(prompt).toMatch(/Age at the start of the IEP: 10 years/);
    expect(prompt).toMatch(/Grade: 4/);
    expect(prompt).toContain("specific learning disability");
    expect(prompt).toContain("Spanish");
    expect(prompt).toContain("Focus on reading.");
    expect(prompt).toContain("2026-08-15");
  });

  it("says transition and transfer of rights must be null when not required", () => {
    const { systemInstruction, prompt } = buildIepPrompt({ student, period, requirements: NONE, chunks });
    expect(systemInstruction).toMatch(/`transition` must be null/);
    expect(systemInstruction).toMatch(/`transferOfRights` must be null/);
    expect(prompt).toMatch(/transition: .* must be null/);
  });

  it("says transition is required for a 16-year-old", () => {
    const { systemInstruction, prompt } = buildIepPrompt({
      student: { ...student, dateOfBirth: "2011-01-10" },
      period,
      requirements: { transition: true, transferOfRights: false },
      chunks,
    });
    expect(systemInstruction).toMatch(/Transition[^\n]*REQUIRED/);
    expect(systemInstruction).not.toMatch(/`transition` must be null/);
    expect(systemInstruction).toMatch(/`transferOfRights` must be null/);
    expect(prompt).not.toContain("2011-01-10");
    expect(prompt).toMatch(/Age at the start of the IEP: 15 years/);
  });

  it("with onlySection asks for that section only, with the existing content as context", () => {
    const existing = validContent();
    const { prompt } = buildIepPrompt({
      student,
      period,
      requirements: NONE,
      chunks,
      onlySection: "ANNUAL_GOALS",
      existingContent: existing,
    });
    expect(prompt).toMatch(/only the JSON of the "annualGoals" section/);
    expect(prompt).toContain(existing.progressReporting.method);
    expect(prompt).not.toMatch(/Sections to write/);

    const full = buildIepPrompt({ student, period, requirements: NONE, chunks }).prompt;
    expect(full).toMatch(/Sections to write/);
    for (const kind of IEP_SECTION_KINDS) expect(full).toContain(SECTION_FIELD[kind]);
  });

  it("has a retrieval query per section", () => {
    for (const kind of IEP_SECTION_KINDS) expect(SECTION_RETRIEVAL_QUERIES[kind].length).toBeGreaterThan(10);
    expect(SECTION_RETRIEVAL_QUERIES.TRANSITION).toMatch(/postsecondary/);
  });
});
