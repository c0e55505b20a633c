/**
 * What an IEP must contain for a given student and period, and the checks zod cannot express:
 * citations limited to this student's evidence, age-based sections (transition at 16, transfer
 * of rights within a year of the age of majority), alternate assessment requirements, and
 * service date order.
 */
import { z } from "zod";
import {
  AssessmentParticipation,
  IepContent,
  SECTION_FIELD,
  SECTION_SCHEMAS,
  templateItemsSchema,
  TransferOfRights,
  Transition,
  type ExtraItemSpec,
  type IepSectionKind,
} from "./content.ts";
import { ageOn, MONTH_NAMES, type IepPeriod } from "./dates.ts";

export {
  addDays, addOneYear, ageOn, defaultAcademicYear, iepDateProblems, iepPeriod, longDate, periodOfDates, periodOfRow, resolveIepDates, type IepDates, type IepPeriod,
} from "./dates.ts";

export const AGE_OF_MAJORITY = 18;
/** IDEA §300.320(b): transition planning from the first IEP in effect when the student turns 16. */
export const TRANSITION_AGE = 16;

/** Which age-dependent sections an IEP must contain (true) or must leave null (false). */
export interface SectionRequirements {
  transition: boolean;
  transferOfRights: boolean;
}

export function sectionRequirements(dateOfBirth: string, period: IepPeriod): SectionRequirements {
  const ageAtEnd = ageOn(dateOfBirth, period.endDate);
  return {
    transition: ageAtEnd >= TRANSITION_AGE,
    transferOfRights: ageAtEnd >= AGE_OF_MAJORITY - 1,
  };
}

/** IepContent with transition / transferOfRights required non-null or required null, per the requirements. */
export function iepContentSchemaFor(requirements: SectionRequirements) {
  return IepContent.extend({
    transition: requirements.transition
      ? Transition.describe("Postsecondary goals and transition services: REQUIRED, the student is 16 or older during this IEP")
      : z.null().describe("Must be null: the student is under 16 for the whole IEP period"),
    transferOfRights: requirements.transferOfRights
      ? TransferOfRights.describe(
          "Transfer of rights at the age of majority: REQUIRED, the student reaches the age of majority within a year of this IEP",
        )
      : z.null().describe("Must be null: the student does not reach the age of majority within a year of this IEP"),
  });
}

/**
 * The schema of a whole draft: iepContentSchemaFor, plus a required `templateItems` object when
 * the template has extra items (without any, exactly iepContentSchemaFor).
 */
export function draftContentSchemaFor(requirements: SectionRequirements, extraItems: readonly ExtraItemSpec[] = []): z.ZodType {
  const schema = iepContentSchemaFor(requirements);
  return extraItems.length === 0 ? schema : schema.extend({ templateItems: templateItemsSchema(extraItems) });
}

/** One section's schema for a section redraft: as in SECTION_SCHEMAS, or z.null() for a section that must be null. */
export function sectionSchemaFor(kind: IepSectionKind, requirements: SectionRequirements): z.ZodType {
  const shape = iepContentSchemaFor(requirements).shape;
  return shape[SECTION_FIELD[kind]];
}

/** String formats Gemini's JSON Schema support documents; other formats are dropped. */
const GEMINI_FORMATS = new Set(["date", "date-time", "time"]);
/** Keywords kept in the schema sent to Gemini; everything else (e.g. $schema, pattern, additionalProperties) is dropped. */
const GEMINI_KEYWORDS = new Set([
  "$id",
  "$defs",
  "$ref",
  "$anchor",
  "type",
  "format",
  "title",
  "description",
  "enum",
  "const",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "anyOf",
  "oneOf",
  "properties",
  "required",
  "propertyOrdering",
]);
/** Keywords whose value is a map of subschemas (keys are names, not keywords). */
const SCHEMA_MAPS = new Set(["properties", "$defs"]);
/** Keywords whose value is a subschema or a list of subschemas. */
const SUBSCHEMAS = new Set(["items", "prefixItems", "anyOf", "oneOf"]);

/**
 * `z.toJSONSchema(schema)` cleaned for Gemini's `responseJsonSchema`: no "$schema", no
 * "additionalProperties", no regex "pattern" (zod's uuid/date patterns), only the date/time
 * formats, no zod's ±MAX_SAFE_INTEGER integer bounds, and "$defs" only when some "$ref" uses it.
 */
export function responseJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
  const cleaned = cleanSchema(json);
  if (cleaned.$defs !== undefined && !JSON.stringify(cleaned).includes('"$ref"')) delete cleaned.$defs;
  return cleaned;
}

function cleanSchema(node: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!GEMINI_KEYWORDS.has(key)) continue;
    if (key === "format" && !GEMINI_FORMATS.has(String(value))) continue;
    if ((key === "minimum" || key === "maximum") && typeof value === "number" && Math.abs(value) >= Number.MAX_SAFE_INTEGER) {
      continue;
    }
    if (SCHEMA_MAPS.has(key) && isRecord(value)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? cleanSchema(sub) : sub]));
    } else if (SUBSCHEMAS.has(key)) {
      result[key] = Array.isArray(value) ? value.map((sub) => (isRecord(sub) ? cleanSchema(sub) : sub)) : isRecord(value) ? cleanSchema(value) : value;
    } else {
      result[key] = value;
    }
  }
  return result;
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A rule broken by IEP content; `path` names where, e.g. "annualGoals.goals[0].citations[1]". */
export interface RuleViolation {
  path: string;
  message: string;
}

export interface IepCheckContext {
  requirements: SectionRequirements;
  /** Ids of this student's evidence chunks: the only ids content may cite. */
  allowedChunkIds: ReadonlySet<string>;
  /** When given, service dates must also lie within the IEP period. */
  period?: IepPeriod;
}

export interface SectionCheckContext extends IepCheckContext {
  /** The full current IEP content, for checks that span sections (alternate assessment ⇒ short-term objectives). */
  existingContent?: unknown;
}

/** Every rule violation of a full (zod-valid) IEP. */
export function checkIepContent(content: IepContent, ctx: IepCheckContext): RuleViolation[] {
  const participation = content.assessmentParticipation.participation;
  const violations: RuleViolation[] = [];
  for (const kind of Object.keys(SECTION_FIELD) as IepSectionKind[]) {
    violations.push(...sectionRules(kind, content[SECTION_FIELD[kind]], ctx, participation));
  }
  return violations;
}

/**
 * The same checks for one section (a redraft): schema violations when `content` is not a valid
 * section, foreign citations, and the section's own rules. With `ctx.existingContent`, goals are
 * checked against the IEP's assessment participation.
 */
export function checkSectionContent(kind: IepSectionKind, content: unknown, ctx: SectionCheckContext): RuleViolation[] {
  const field = SECTION_FIELD[kind];
  const nullable = kind === "TRANSITION" || kind === "TRANSFER_OF_RIGHTS";
  if (!(nullable && content === null)) {
    const parsed = SECTION_SCHEMAS[kind].safeParse(content);
    if (!parsed.success) {
      const schemaViolations = parsed.error.issues.map((issue) => ({
        path: joinPath(field, issue.path),
        message: issue.message,
      }));
      return [...schemaViolations, ...citationViolations(field, content, ctx.allowedChunkIds)];
    }
    content = parsed.data;
  }
  const existing = isRecord(ctx.existingContent) ? ctx.existingContent : {};
  const participation = AssessmentParticipation.safeParse(existing.assessmentParticipation);
  return sectionRules(kind, content, ctx, participation.success ? participation.data.participation : undefined);
}

/** The rules for one section's (schema-valid, or null) content. */
function sectionRules(
  kind: IepSectionKind,
  content: unknown,
  ctx: IepCheckContext,
  participation: string | undefined,
): RuleViolation[] {
  const field = SECTION_FIELD[kind];
  const violations = citationViolations(field, content, ctx.allowedChunkIds);
  switch (kind) {
    case "TRANSITION":
      violations.push(...presenceViolation(field, content, ctx.requirements.transition, "transition services (student is 16 or older during the IEP)"));
      break;
    case "TRANSFER_OF_RIGHTS":
      violations.push(
        ...presenceViolation(field, content, ctx.requirements.transferOfRights, "transfer of rights (student reaches the age of majority within a year)"),
      );
      break;
    case "ASSESSMENT_PARTICIPATION": {
      const section = content as AssessmentParticipation;
      if (section.participation === "ALTERNATE" && !section.alternateAssessmentJustification?.trim()) {
        violations.push({
          path: `${field}.alternateAssessmentJustification`,
          message: "An alternate assessment requires a statement of why the student cannot take the regular assessment and why the alternate is appropriate",
        });
      }
      if (section.participation === "GENERAL_WITH_ACCOMMODATIONS" && section.accommodations.length === 0) {
        violations.push({ path: `${field}.accommodations`, message: "Participation with accommodations requires at least one accommodation" });
      }
      break;
    }
    case "ANNUAL_GOALS": {
      if (ctx.period) violations.push(...timeframeViolations(field, content as IepContent["annualGoals"], ctx.period));
      if (participation !== "ALTERNATE") break;
      (content as IepContent["annualGoals"]).goals.forEach((goal, index) => {
        if (goal.shortTermObjectives.length === 0) {
          violations.push({
            path: `${field}.goals[${index}].shortTermObjectives`,
            message: "Students taking the alternate assessment need at least one short-term objective or benchmark per goal",
          });
        }
      });
      break;
    }
    case "SERVICES": {
      const section = content as IepContent["services"];
      for (const list of ["specialEducation", "relatedServices"] as const) {
        section[list].forEach((item, index) => {
          const path = `${field}.${list}[${index}]`;
          if (item.startDate > item.endDate) {
            violations.push({ path: `${path}.endDate`, message: `Service ends (${item.endDate}) before it starts (${item.startDate})` });
          }
          if (ctx.period && (item.startDate < ctx.period.startDate || item.startDate > ctx.period.endDate)) {
            violations.push({ path: `${path}.startDate`, message: `Service start ${item.startDate} is outside the IEP period ${ctx.period.startDate} to ${ctx.period.endDate}` });
          }
          if (ctx.period && (item.endDate < ctx.period.startDate || item.endDate > ctx.period.endDate)) {
            violations.push({ path: `${path}.endDate`, message: `Service end ${item.endDate} is outside the IEP period ${ctx.period.startDate} to ${ctx.period.endDate}` });
          }
        });
      }
      break;
    }
    default:
      break;
  }
  return violations;
}

const LONG_DATE = new RegExp(`\\b(${MONTH_NAMES.join("|")})\\s+(\\d{1,2}),?\\s+(\\d{4})\\b`, "gi");
const ISO_DATE_IN_TEXT = /\b\d{4}-\d{2}-\d{2}\b/g;

/** The calendar dates a text names ("2027-08-14", "August 14, 2027"), as "YYYY-MM-DD". */
export function datesInText(text: string): string[] {
  const pad = (n: number) => String(n).padStart(2, "0");
  const long = [...text.matchAll(LONG_DATE)].map((m) => `${m[3]}-${pad(MONTH_NAMES.findIndex((name) => name.toLowerCase() === m[1]!.toLowerCase()) + 1)}-${pad(Number(m[2]))}`);
  return [...(text.match(ISO_DATE_IN_TEXT) ?? []), ...long];
}

/** A goal's timeframe may name only dates within the IEP period: goals are met by the annual review. */
function timeframeViolations(field: string, section: IepContent["annualGoals"], period: IepPeriod): RuleViolation[] {
  const violations: RuleViolation[] = [];
  section.goals.forEach((goal, index) => {
    for (const date of datesInText(goal.timeframe)) {
      if (date < period.startDate || date > period.endDate) {
        violations.push({
          path: `${field}.goals[${index}].timeframe`,
          message: `Names ${date}, outside the IEP period ${period.startDate} (effective) to ${period.endDate} (annual review)`,
        });
      }
    }
  });
  return violations;
}

function presenceViolation(field: string, content: unknown, required: boolean, what: string): RuleViolation[] {
  if (required && content === null) return [{ path: field, message: `This IEP must include ${what}` }];
  if (!required && content !== null) return [{ path: field, message: `Must be null: this IEP does not require ${what}` }];
  return [];
}

/** Citations of ids that are not this student's evidence chunks, each with its path. */
function citationViolations(field: string, content: unknown, allowed: ReadonlySet<string>): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, `${path}[${index}]`));
      return;
    }
    if (!isRecord(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const childPath = `${path}.${key}`;
      if (key === "citations" && Array.isArray(value)) {
        value.forEach((id, index) => {
          if (typeof id === "string" && !allowed.has(id) && !allowed.has(id.toLowerCase())) {
            violations.push({ path: `${childPath}[${index}]`, message: `Cites "${id}", which is not one of this student's evidence chunks` });
          }
        });
      } else {
        visit(value, childPath);
      }
    }
  };
  visit(content, field);
  return violations;
}

function joinPath(field: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (joined, segment) => (typeof segment === "number" ? `${joined}[${segment}]` : `${joined}.${String(segment)}`),
    field,
  );
}

