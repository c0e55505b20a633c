import { describe, expect, it } from "vitest";
import { z } from "zod";
import { citedChunkIds, IEP_SECTION_KINDS, SECTION_FIELD, type IepContent } from "../src/iep/content.ts";
import { buildIepPrompt, type PromptChunk, type PromptStudent } from "../src/iep/prompt.ts";
import {
  checkIepContent,
  checkSectionContent,
  draftContentSchemaFor,
  iepContentSchemaFor,
  periodOfDates,
  iepPeriod,
  responseJsonSchema,
  sectionRequirements,
  sectionSchemaFor,
} from "../src/iep/rules.ts";
import { defaultGeneratedText } from "../src/gemini/simulator/generation.ts";
import { iepDraftFor } from "../src/gemini/simulator/iep.ts";
import { DEFAULT_TEMPLATE, type TemplateVersion } from "../src/iep/templates.ts";

const PERIOD = iepPeriod("2026-2027");

interface Case {
  label: string;
  student: PromptStudent;
  chunks: PromptChunk[];
}

const chunk = (id: string, evidenceKind: string, evidenceTitle: string, text: string): PromptChunk => ({ id, evidenceKind, evidenceTitle, text });

const SLD: Case = {
  label: "10-year-old with a specific learning disability",
  student: { firstName: "Maya", grade: "5", dateOfBirth: "2016-03-01", disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY"], primaryLanguage: "English" },
  chunks: [
    chunk("0b6c6f0e-3a1d-4c2b-9f4e-1a2b3c4d5e6f", "PROGRESS_NOTE", "Reading fluency progress",
      "Maya reads with expression when the text is familiar.\nOral reading fluency on DIBELS 8 rose from a baseline of 18 to 44 words correct per minute with 92% accuracy after repeated reading three times a week. Errors are mostly on multisyllabic words."),
    chunk("5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "EVALUATION", "Psychoeducational evaluation",
      "Evaluation completed on March 3, 2026 by the school psychologist. WIAT-4 math problem solving standard score 82; numerical operations 79. Benefits from manipulatives and worked examples."),
    chunk("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "TEACHER_OBSERVATION", "Classroom observation",
      "Observed during the math block on two days. On task during 65% of observed intervals in independent work; movement breaks every 15 minutes and a visual timer reduced off-task behaviour."),
  ],
};

const INTELLECTUAL: Case = {
  label: "16-year-old with an intellectual disability",
  student: { firstName: "Sam", grade: "10", dateOfBirth: "2010-01-18", disabilityCategories: ["INTELLECTUAL_DISABILITY"], primaryLanguage: "Spanish" },
  chunks: [
    chunk("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "EVALUATION", "Cognitive and adaptive evaluation",
      "Full Scale IQ 52 on the WISC-V, consistent with a significant cognitive disability. Vineland-3 adaptive behavior composite 58. The team recommends the State alternate assessment."),
    chunk("2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", "PROGRESS_NOTE", "Functional math progress",
      "Sam counts coins to make purchases up to $5 with 60% accuracy across 10 trials."),
    chunk("3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b", "ASSESSMENT", "Transition interest inventory",
      "Career interest inventory shows strong interest in animal care and landscaping; wants to live with a roommate and take the bus independently after graduation."),
    chunk("4f5a6b7c-8d9e-4f0a-9b2c-3d4e5f6a7b8c", "PARENT_INPUT", "Parent input",
      "Parents report Sam makes a simple breakfast on his own on 4 of 7 mornings and wants a job outdoors."),
  ],
};

const SPEECH: Case = {
  label: "8-year-old with a speech or language impairment",
  student: { firstName: "Leo", grade: "3", dateOfBirth: "2018-05-20", disabilityCategories: ["SPEECH_OR_LANGUAGE_IMPAIRMENT"], primaryLanguage: "English" },
  chunks: [
    chunk("5a6b7c8d-9e0f-4a1b-8c3d-4e5f6a7b8c9d", "EVALUATION", "Speech-language evaluation",
      "CELF-5 core language standard score 76 (5th percentile); expressive language index 72."),
    chunk("6b7c8d9e-0f1a-4b2c-9d4e-5f6a7b8c9d0e", "PROGRESS_NOTE", "Articulation progress",
      "Leo produces /r/ correctly in words with 45% accuracy and in sentences with 20% accuracy."),
    chunk("7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f", "TEACHER_OBSERVATION", "Classroom observation",
      "Leo follows two-step oral directions in 3 of 10 observed opportunities without a visual cue."),
  ],
};

const CASES = [SLD, INTELLECTUAL, SPEECH];

function setup(c: Case) {
  const requirements = sectionRequirements(c.student.dateOfBirth, PERIOD);
  const { systemInstruction, prompt } = buildIepPrompt({ student: c.student, period: PERIOD, requirements, chunks: c.chunks });
  const schema = iepContentSchemaFor(requirements);
  const draft = iepDraftFor({ responseJsonSchema: responseJsonSchema(schema), systemText: systemInstruction, promptText: prompt });
  const ids = new Set(c.chunks.map((ch) => ch.id));
  return { requirements, systemInstruction, prompt, schema, draft, ids };
}

const normalized = (text: string) => text.replace(/\s+/g, " ").trim();

/** The double-quoted passages of a text that are verbatim excerpt text with a number in them. */
function quotedData(text: string, excerpt: PromptChunk): string[] {
  return [...text.matchAll(/"([^"]{12,})"/g)].map((m) => m[1]!).filter((q) => /\d/.test(q) && normalized(excerpt.text).includes(q));
}

describe("iepDraftFor (simulator IEP drafts)", () => {
  it.each(CASES)("drafts a full IEP that passes the schema and the IEP rules: $label", (c) => {
    const { requirements, schema, draft, ids } = setup(c);
    const content = schema.parse(draft) as IepContent;
    expect(checkIepContent(content, { requirements, period: PERIOD, allowedChunkIds: ids })).toEqual([]);
    for (const kind of IEP_SECTION_KINDS) {
      for (const id of citedChunkIds(content[SECTION_FIELD[kind]])) expect(ids.has(id)).toBe(true);
    }

    const byId = new Map(c.chunks.map((ch) => [ch.id, ch]));
    const { academicAchievement, functionalPerformance, disabilityImpact } = content.presentLevels;
    for (const item of [...academicAchievement, ...functionalPerformance, disabilityImpact]) {
      expect(item.citations).toHaveLength(1);
      expect(quotedData(item.statement, byId.get(item.citations[0]!)!)).not.toEqual([]);
    }
    expect(disabilityImpact.statement).toMatch(new RegExp(`^Because of .+, ${c.student.firstName} `));

    const goals = content.annualGoals.goals;
    expect(goals.length).toBeGreaterThanOrEqual(2);
    expect(goals.length).toBeLessThanOrEqual(3);
    for (const goal of goals) {
      expect(quotedData(goal.baseline, byId.get(goal.citations[0]!)!)).not.toEqual([]);
      expect(goal.timeframe).toContain("August 14, 2027");
    }

    const services = [...content.services.specialEducation, ...content.services.relatedServices];
    for (const service of services) expect([service.startDate, service.endDate]).toEqual([PERIOD.startDate, PERIOD.endDate]);
    expect(content.leastRestrictiveEnvironment.percentTimeInGeneralEducation).toBeGreaterThan(0);
    expect(content.transition !== null).toBe(c === INTELLECTUAL);
    expect(content.transferOfRights !== null).toBe(c === INTELLECTUAL);
    expect(requirements.transition).toBe(c === INTELLECTUAL);
  });

  it("is deterministic: the same request gives the same draft", () => {
    for (const c of CASES) {
      const first = setup(c).draft;
      expect(JSON.stringify(setup(c).draft)).toBe(JSON.stringify(first));
    }
  });

  it("chooses assessment participation and short-term objectives from the categories and evidence", () => {
    const sld = setup(SLD).draft as IepContent;
    expect(sld.assessmentParticipation.participation).toBe("GENERAL_WITH_ACCOMMODATIONS");
    expect(sld.assessmentParticipation.accommodations.length).toBeGreaterThanOrEqual(2);
    expect(sld.assessmentParticipation.alternateAssessmentJustification).toBeNull();
    expect(sld.annualGoals.goals.map((g) => g.area)).toEqual(["Reading fluency", "Math problem solving", "Attention and work completion"]);
    expect(sld.presentLevels.academicAchievement.map((s) => s.citations[0])).toEqual([SLD.chunks[0]!.id, SLD.chunks[1]!.id]);
    expect(sld.presentLevels.functionalPerformance.map((s) => s.citations[0])).toEqual([SLD.chunks[2]!.id]);

    const teen = setup(INTELLECTUAL).draft as IepContent;
    expect(teen.assessmentParticipation.participation).toBe("ALTERNATE");
    expect(teen.assessmentParticipation.alternateAssessmentJustification).toEqual(expect.stringMatching(/\S/));
    for (const goal of teen.annualGoals.goals) expect(goal.shortTermObjectives.length).toBeGreaterThan(0);
    expect(teen.transition?.postsecondaryGoals.employment).toContain("animal care and landscaping");
    expect(teen.transition?.ageAppropriateAssessments).toContain("Transition interest inventory");
    expect(teen.progressReporting.frequency).toContain("Spanish");
  });

  it("gives a student with a speech or language impairment a speech-language pathologist", () => {
    const content = setup(SPEECH).draft as IepContent;
    const services = [...content.services.specialEducation, ...content.services.relatedServices];
    expect(services.some((s) => s.provider === "Speech-language pathologist")).toBe(true);
    expect(setup(SLD).draft).toMatchObject({ services: { relatedServices: [] } });
  });

  it.each(CASES)("redrafts each required section with just that section's content: $label", (c) => {
    const { requirements, draft, ids } = setup(c);
    for (const kind of IEP_SECTION_KINDS) {
      const { systemInstruction, prompt } = buildIepPrompt({
        student: c.student, period: PERIOD, requirements, chunks: c.chunks, onlySection: kind, existingContent: draft,
      });
      const schema = sectionSchemaFor(kind, requirements);
      const section = iepDraftFor({ responseJsonSchema: responseJsonSchema(schema), systemText: systemInstruction, promptText: prompt });
      if (schema instanceof z.ZodNull) {
        expect(section).toBeUndefined();
        continue;
      }
      expect(schema.parse(section)).toEqual(section);
      expect(section).toEqual((draft as Record<string, unknown>)[SECTION_FIELD[kind]]);
      expect(checkSectionContent(kind, section, { requirements, period: PERIOD, allowedChunkIds: ids, existingContent: draft })).toEqual([]);
    }
  });

  it("keeps a section redraft consistent with the current IEP's assessment participation and goals", () => {
    const { requirements, draft, ids } = setup(INTELLECTUAL);
    const current = structuredClone(draft) as IepContent;
    current.assessmentParticipation = { participation: "GENERAL", accommodations: [], alternateAssessmentJustification: null };
    for (const goal of current.annualGoals.goals) goal.shortTermObjectives = [];
    const redraft = (kind: "ASSESSMENT_PARTICIPATION" | "ANNUAL_GOALS", existingContent: unknown) => {
      const { systemInstruction, prompt } = buildIepPrompt({
        student: INTELLECTUAL.student, period: PERIOD, requirements, chunks: INTELLECTUAL.chunks, onlySection: kind, existingContent,
      });
      const section = iepDraftFor({ responseJsonSchema: responseJsonSchema(sectionSchemaFor(kind, requirements)), systemText: systemInstruction, promptText: prompt });
      expect(checkSectionContent(kind, section, { requirements, period: PERIOD, allowedChunkIds: ids, existingContent })).toEqual([]);
      return section as Record<string, any>;
    };
    expect(redraft("ASSESSMENT_PARTICIPATION", current).participation).toBe("GENERAL_WITH_ACCOMMODATIONS");
    const sld = setup(SLD);
    const alternateCurrent = { ...(sld.draft as IepContent), assessmentParticipation: { participation: "ALTERNATE", accommodations: [], alternateAssessmentJustification: "Team decision." } };
    const { systemInstruction, prompt } = buildIepPrompt({
      student: SLD.student, period: PERIOD, requirements: sld.requirements, chunks: SLD.chunks, onlySection: "ANNUAL_GOALS", existingContent: alternateCurrent,
    });
    const goals = iepDraftFor({ responseJsonSchema: responseJsonSchema(sectionSchemaFor("ANNUAL_GOALS", sld.requirements)), systemText: systemInstruction, promptText: prompt }) as IepContent["annualGoals"];
    for (const goal of goals.goals) expect(goal.shortTermObjectives.length).toBeGreaterThan(0);
  });

  it("answers through defaultGeneratedText: IEP drafts for IEP schemas, null for a section that must be null", () => {
    const { requirements, systemInstruction, prompt, draft } = setup(SLD);
    const body = (schema: unknown, text = prompt) => ({
      contents: [{ role: "user", parts: [{ text }] }],
      systemInstruction: { parts: [{ text: systemInstruction }] },
      generationConfig: { responseMimeType: "application/json", responseJsonSchema: schema },
    });
    expect(JSON.parse(defaultGeneratedText(body(responseJsonSchema(iepContentSchemaFor(requirements)))))).toEqual(draft);
    const transitionPrompt = buildIepPrompt({ student: SLD.student, period: PERIOD, requirements, chunks: SLD.chunks, onlySection: "TRANSITION" }).prompt;
    expect(defaultGeneratedText(body(responseJsonSchema(sectionSchemaFor("TRANSITION", requirements)), transitionPrompt))).toBe("null");
  });

  it("returns undefined for other schemas and for prompts without evidence", () => {
    const { requirements, systemInstruction, prompt } = setup(SLD);
    const other = z.object({ studentSummary: z.string(), goals: z.array(z.object({ area: z.string() })) });
    expect(iepDraftFor({ responseJsonSchema: z.toJSONSchema(other), systemText: systemInstruction, promptText: prompt })).toBeUndefined();
    expect(iepDraftFor({ responseJsonSchema: { type: "string" }, systemText: systemInstruction, promptText: prompt })).toBeUndefined();
    expect(iepDraftFor({ responseJsonSchema: undefined, systemText: systemInstruction, promptText: prompt })).toBeUndefined();
    const empty = buildIepPrompt({ student: SLD.student, period: PERIOD, requirements, chunks: [] });
    const schema = responseJsonSchema(iepContentSchemaFor(requirements));
    expect(iepDraftFor({ responseJsonSchema: schema, systemText: empty.systemInstruction, promptText: empty.prompt })).toBeUndefined();
  });

  it("fills a template's extra items and keeps to given IEP dates, deterministically", () => {
    const period = periodOfDates("2026-2027", { meetingDate: "2027-01-10", effectiveDate: "2027-01-20", annualReviewDate: "2028-01-15" });
    const template: TemplateVersion = {
      ...DEFAULT_TEMPLATE, id: "3f0e8f7c-2a10-4b1d-9c43-1b7a4a8e9d55",
      sections: [...DEFAULT_TEMPLATE.sections].reverse(),
      extraItems: [
        { key: "extendedSchoolYear", label: "Extended school year", description: "Whether ESY services are needed", section: "SERVICES" },
        { key: "assistiveTechnology", label: "Assistive technology", description: "Devices or services needed", section: "PRESENT_LEVELS" },
      ],
      defaultInstructions: "Write for families first.",
    };
    for (const c of CASES) {
      const requirements = sectionRequirements(c.student.dateOfBirth, period);
      const { systemInstruction, prompt } = buildIepPrompt({ student: c.student, period, requirements, chunks: c.chunks, template });
      expect(prompt).toContain("From the school's IEP template: Write for families first.");
      expect(prompt.indexOf("- transferOfRights:")).toBeLessThan(prompt.indexOf("- presentLevels:"));
      const schema = draftContentSchemaFor(requirements, template.extraItems);
      const request = { responseJsonSchema: responseJsonSchema(schema), systemText: systemInstruction, promptText: prompt };
      const draft = iepDraftFor(request) as IepContent;
      expect(iepDraftFor(request)).toEqual(draft);
      expect(schema.safeParse(draft).success).toBe(true);
      expect(Object.keys(draft.templateItems!)).toEqual(["extendedSchoolYear", "assistiveTechnology"]);
      expect(draft.templateItems!.extendedSchoolYear).toMatch(/^Extended school year: /);
      const ids = new Set(c.chunks.map((ch) => ch.id));
      expect(checkIepContent(draft, { requirements, allowedChunkIds: ids, period })).toEqual([]);
      for (const item of [...draft.services.specialEducation, ...draft.services.relatedServices]) {
        expect([item.startDate, item.endDate]).toEqual(["2027-01-20", "2028-01-15"]);
      }
      for (const goal of draft.annualGoals.goals) expect(goal.timeframe).toContain("January 15, 2028");
    }
  });
});
