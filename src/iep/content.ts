/**
 * The IEP content contract: one zod schema per section of an Individualized Education Program,
 * covering what IDEA requires an IEP to contain (34 CFR §300.320).
 *
 * These schemas double as Gemini's response schema (via `z.toJSONSchema`, see rules.ts), so they
 * stay within what JSON Schema expresses: no transforms or refinements, dates as ISO strings,
 * unions only as `.nullable()` or string enums. Checks that span sections or depend on the
 * student (allowed citations, age-based sections, alternate assessment) live in rules.ts.
 */
import { z } from "zod";

export const IEP_SECTION_KINDS = [
  "PRESENT_LEVELS",
  "ANNUAL_GOALS",
  "PROGRESS_REPORTING",
  "SERVICES",
  "LEAST_RESTRICTIVE_ENVIRONMENT",
  "ASSESSMENT_PARTICIPATION",
  "TRANSITION",
  "TRANSFER_OF_RIGHTS",
] as const;
export type IepSectionKind = (typeof IEP_SECTION_KINDS)[number];

/** A non-empty (after trimming) string, described for the model. */
function text(description: string) {
  return z.string().trim().min(1).describe(description);
}

/** Evidence chunk ids (UUIDs) that support a statement; at least one. */
export const Citations = z
  .array(z.uuid().describe("The id of an evidence chunk, copied exactly from a `chunk: <id>` line of the evidence list"))
  .min(1)
  .describe("Ids of the evidence chunks this statement is based on (at least one; only ids from the evidence list)");

export const CitedStatement = z.object({
  statement: text("One factual statement about the student, supported by the cited evidence; no invented scores or data"),
  citations: Citations,
});
export type CitedStatement = z.infer<typeof CitedStatement>;

/** §300.320(a)(1): present levels of academic achievement and functional performance. */
export const PresentLevels = z
  .object({
    academicAchievement: z
      .array(CitedStatement)
      .min(1)
      .describe("Present levels of academic achievement (reading, writing, math, …) with current data from the evidence"),
    functionalPerformance: z
      .array(CitedStatement)
      .min(1)
      .describe("Present levels of functional performance (communication, behaviour, social, motor, daily living, …)"),
    disabilityImpact: CitedStatement.describe(
      "How the student's disability affects involvement and progress in the general education curriculum (for preschool children: participation in appropriate activities)",
    ),
  })
  .describe("Present levels of academic achievement and functional performance (34 CFR §300.320(a)(1))");
export type PresentLevels = z.infer<typeof PresentLevels>;

/** §300.320(a)(2): measurable annual goals (and short-term objectives for alternate-assessment students). */
export const AnnualGoal = z.object({
  area: text("The area of need the goal addresses, e.g. 'Reading fluency' or 'Self-regulation'"),
  baseline: text("The student's current performance in this area, taken from the evidence (never invented)"),
  condition: text("The conditions under which the behaviour is performed, e.g. 'Given a grade-level passage'"),
  behavior: text("The observable, measurable behaviour the student will perform"),
  criterion: text("The level of performance that shows mastery, e.g. '90 words correct per minute in 4 of 5 probes'"),
  measurementMethod: text("How progress is measured, e.g. 'weekly curriculum-based measurement probes'"),
  timeframe: text("By when the goal is to be met, e.g. 'By the annual IEP review date'"),
  citations: Citations,
  shortTermObjectives: z
    .array(text("One short-term objective or benchmark toward the goal"))
    .describe("Short-term objectives or benchmarks; required (at least one) for students taking the alternate assessment"),
});
export type AnnualGoal = z.infer<typeof AnnualGoal>;

export const AnnualGoals = z
  .object({
    goals: z
      .array(AnnualGoal)
      .min(1)
      .describe("Measurable annual goals, academic and functional, one per area of need identified in present levels"),
  })
  .describe("Measurable annual goals (34 CFR §300.320(a)(2))");
export type AnnualGoals = z.infer<typeof AnnualGoals>;

/** §300.320(a)(3): how progress is measured and when periodic reports are given. */
export const ProgressReporting = z
  .object({
    method: text("How the student's progress toward the annual goals will be measured"),
    frequency: text("When periodic reports on progress will be provided to parents, e.g. 'quarterly, with report cards'"),
  })
  .describe("Measuring and reporting progress toward the annual goals (34 CFR §300.320(a)(3))");
export type ProgressReporting = z.infer<typeof ProgressReporting>;

export const ServiceItem = z.object({
  service: text("The service, e.g. 'Specialized reading instruction' or 'Speech-language therapy'"),
  provider: text("Who provides it (role, not a person's name), e.g. 'Special education teacher'"),
  frequency: text("How often, e.g. '3 times per week'"),
  durationMinutes: z.int().min(1).describe("Minutes per session (a whole number greater than 0)"),
  location: text("Where, e.g. 'General education classroom' or 'Resource room'"),
  startDate: z.iso.date().describe("Anticipated start date (YYYY-MM-DD), within the IEP period"),
  endDate: z.iso.date().describe("Anticipated end date (YYYY-MM-DD), not before the start date, within the IEP period"),
});
export type ServiceItem = z.infer<typeof ServiceItem>;

/** §300.320(a)(4) and (a)(7): services, aids, modifications and supports, with frequency, location and duration. */
export const Services = z
  .object({
    specialEducation: z.array(ServiceItem).min(1).describe("Special education services (specially designed instruction)"),
    relatedServices: z
      .array(ServiceItem)
      .describe("Related services, e.g. speech-language therapy, occupational therapy, counseling; empty if none"),
    supplementaryAids: z
      .array(text("One supplementary aid or service"))
      .describe("Supplementary aids and services provided in general education and other settings"),
    programModifications: z
      .array(text("One program modification"))
      .describe("Program modifications for the student"),
    personnelSupports: z
      .array(text("One support for school personnel"))
      .describe("Supports for school personnel, e.g. training or consultation"),
  })
  .describe("Special education, related and supplementary services, modifications and supports (34 CFR §300.320(a)(4), (a)(7))");
export type Services = z.infer<typeof Services>;

/** §300.320(a)(5): extent of non-participation with nondisabled children. */
export const LeastRestrictiveEnvironment = z
  .object({
    percentTimeInGeneralEducation: z
      .int()
      .min(0)
      .max(100)
      .describe("Percentage of the school day the student spends in general education settings (0 to 100)"),
    explanation: text(
      "Explanation of the extent, if any, to which the student will not participate with nondisabled children in the regular class and in extracurricular and nonacademic activities, and why",
    ),
  })
  .describe("Least restrictive environment (34 CFR §300.320(a)(5))");
export type LeastRestrictiveEnvironment = z.infer<typeof LeastRestrictiveEnvironment>;

export const ASSESSMENT_PARTICIPATION_KINDS = ["GENERAL", "GENERAL_WITH_ACCOMMODATIONS", "ALTERNATE"] as const;
export type AssessmentParticipationKind = (typeof ASSESSMENT_PARTICIPATION_KINDS)[number];

/** §300.320(a)(6): participation in State and districtwide assessments. */
export const AssessmentParticipation = z
  .object({
    participation: z
      .enum(ASSESSMENT_PARTICIPATION_KINDS)
      .describe("How the student takes State and districtwide assessments"),
    accommodations: z
      .array(text("One testing accommodation"))
      .describe("Individual accommodations needed to measure achievement and functional performance on assessments"),
    alternateAssessmentJustification: text(
      "Why the student cannot participate in the regular assessment and why the alternate assessment is appropriate",
    )
      .nullable()
      .describe("Required when participation is ALTERNATE; otherwise null"),
  })
  .describe("Participation in State and districtwide assessments (34 CFR §300.320(a)(6))");
export type AssessmentParticipation = z.infer<typeof AssessmentParticipation>;

/** §300.320(b): transition services, from the IEP in effect when the student turns 16. */
export const Transition = z
  .object({
    postsecondaryGoals: z
      .object({
        education: text("Measurable postsecondary goal for education or training after high school"),
        employment: text("Measurable postsecondary goal for employment"),
        independentLiving: text("Measurable postsecondary goal for independent living skills")
          .nullable()
          .describe("Postsecondary goal for independent living skills, where appropriate; otherwise null"),
      })
      .describe("Appropriate measurable postsecondary goals based on age-appropriate transition assessments"),
    transitionServices: z
      .array(text("One transition service or activity"))
      .min(1)
      .describe("Transition services needed to help the student reach the postsecondary goals"),
    courseOfStudy: text("The course of study that supports the postsecondary goals"),
    ageAppropriateAssessments: z
      .array(text("One age-appropriate transition assessment, e.g. an interest inventory"))
      .describe("Age-appropriate transition assessments the postsecondary goals are based on"),
  })
  .describe("Postsecondary goals and transition services (34 CFR §300.320(b))");
export type Transition = z.infer<typeof Transition>;

/** §300.320(c): notice of transfer of rights at the age of majority. */
export const TransferOfRights = z
  .object({
    ageOfMajority: z.int().min(18).max(21).describe("The State's age of majority in years (18 in most States)"),
    statement: text(
      "Statement that the student has been informed of the rights under IDEA that will transfer to the student on reaching the age of majority",
    ),
  })
  .describe("Transfer of rights at the age of majority (34 CFR §300.320(c))");
export type TransferOfRights = z.infer<typeof TransferOfRights>;

/** Each section's content schema (TRANSITION and TRANSFER_OF_RIGHTS non-null here; nullable in IepContent). */
export const SECTION_SCHEMAS = {
  PRESENT_LEVELS: PresentLevels,
  ANNUAL_GOALS: AnnualGoals,
  PROGRESS_REPORTING: ProgressReporting,
  SERVICES: Services,
  LEAST_RESTRICTIVE_ENVIRONMENT: LeastRestrictiveEnvironment,
  ASSESSMENT_PARTICIPATION: AssessmentParticipation,
  TRANSITION: Transition,
  TRANSFER_OF_RIGHTS: TransferOfRights,
} as const satisfies { [K in IepSectionKind]: z.ZodType };

/** The full IEP content: every section; transition and transfer of rights are null when not required. */
export const IepContent = z.object({
  presentLevels: PresentLevels,
  annualGoals: AnnualGoals,
  progressReporting: ProgressReporting,
  services: Services,
  leastRestrictiveEnvironment: LeastRestrictiveEnvironment,
  assessmentParticipation: AssessmentParticipation,
  transition: Transition.nullable().describe(
    "Postsecondary goals and transition services: required once the student is 16 during the IEP, otherwise null",
  ),
  transferOfRights: TransferOfRights.nullable().describe(
    "Transfer of rights at the age of majority: required within one year of the age of majority, otherwise null",
  ),
});
/**
 * IEP content: the sections, plus `templateItems` when the IEP's template has extra required
 * items (state-specific fields): one text per item key (see templateItemsSchema).
 */
export type IepContent = z.infer<typeof IepContent> & { templateItems?: Record<string, string> };

/** An extra required item of an IEP template, as the draft schema needs it. */
export interface ExtraItemSpec {
  key: string;
  label: string;
  description: string;
}

/** The `templateItems` object a template with extra items requires: every item, a non-empty text each. */
export function templateItemsSchema(items: readonly ExtraItemSpec[]) {
  return z
    .object(Object.fromEntries(items.map((item) => [item.key, text(`${item.label}: ${item.description}`)])))
    .describe("Items this school's IEP template requires (state-specific fields): one text per item, based on the evidence");
}

/** The camelCase key of each section in IepContent. */
export const SECTION_FIELD = {
  PRESENT_LEVELS: "presentLevels",
  ANNUAL_GOALS: "annualGoals",
  PROGRESS_REPORTING: "progressReporting",
  SERVICES: "services",
  LEAST_RESTRICTIVE_ENVIRONMENT: "leastRestrictiveEnvironment",
  ASSESSMENT_PARTICIPATION: "assessmentParticipation",
  TRANSITION: "transition",
  TRANSFER_OF_RIGHTS: "transferOfRights",
} as const satisfies Record<IepSectionKind, keyof IepContent>;

/**
 * Every chunk id cited anywhere inside a section (any `citations` array of strings, at any depth),
 * unique, in first-seen order. Accepts unvalidated content; non-string entries are ignored.
 */
export function citedChunkIds(sectionContent: unknown): string[] {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "citations" && Array.isArray(value)) {
        for (const id of value) if (typeof id === "string") seen.add(id);
      } else {
        visit(value);
      }
    }
  };
  visit(sectionContent);
  return [...seen];
}
