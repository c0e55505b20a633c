/**
 * IEP drafts for the Gemini SIMULATOR: when a generation request asks for iepgen's IEP schema (the
 * full IepContent or one section's schema, recognised by property names), the simulator answers
 * with a plausible, clearly templated draft built from the prompt instead of a generic schema
 * instance. Present levels and goal baselines quote the evidence sentences with data and cite their
 * chunks; services, accommodations and supports come from tables per disability category; dates
 * come from the IEP period in the instructions (effective to annual review date); a template's extra
 * items (`templateItems` in the schema) get a text quoting the evidence each. Deterministic: the
 * same request gives the same draft.
 *
 * The draft validates against `iepContentSchemaFor` / `sectionSchemaFor` and passes `checkIepContent`
 * (only the prompt's chunk ids are cited). Requests for other schemas, or prompts without evidence
 * excerpts, get `undefined` (the caller falls back to the generic generator).
 */
import { IEP_SECTION_KINDS, SECTION_FIELD, SECTION_SCHEMAS, type IepSectionKind } from "../../iep/content.ts";
import { longDate } from "../../iep/dates.ts";
import {
  bestDataSentence, firstSentence, isAcademicExcerpt, isTransitionExcerpt, readIepRequest, sourceOf,
  type Excerpt, type IepRequestFacts,
} from "./iep-evidence.ts";
import { transferOfRightsSection, transitionSection } from "./iep-transition.ts";
import { frequencyText, supportsFor, topicFor, unique, type CategorySupport, type ServiceTemplate, type Topic } from "./iep-templates.ts";

export interface IepDraftRequest {
  responseJsonSchema: unknown;
  systemText: string;
  promptText: string;
}

type Json = Record<string, unknown>;

const keySet = (keys: readonly string[]): string => [...keys].sort().join(",");
const FULL_KEYS = keySet(Object.values(SECTION_FIELD));
const SECTION_KEYS = new Map(IEP_SECTION_KINDS.map((kind) => [keySet(Object.keys(SECTION_SCHEMAS[kind].shape)), kind]));
const MAX_STATEMENTS = 3;
const MAX_GOALS = 3;
const MAX_SERVICES = 3;
/** Instructional minutes in a school week (6.5 hours × 5 days), for the LRE percentage. */
const SCHOOL_WEEK_MINUTES = 1950;
const ALTERNATE_CATEGORIES = new Set(["INTELLECTUAL_DISABILITY", "MULTIPLE_DISABILITIES"]);
const SEVERE_NEEDS = /alternate assessment|significant cognitive|severe|extensive (?:support|needs)|functional academics|modified curriculum/i;

/** A deterministic IEP draft (full content or one section) for an iepgen IEP schema; undefined for any other schema. */
export function iepDraftFor(request: IepDraftRequest): object | undefined {
  const schema = request.responseJsonSchema;
  if (!isRecord(schema) || !isRecord(schema.properties)) return undefined;
  const keys = keySet(Object.keys(schema.properties).filter((key) => key !== "templateItems"));
  const section = SECTION_KEYS.get(keys);
  if (keys !== FULL_KEYS && !section) return undefined;
  const facts = readIepRequest(request.systemText, request.promptText);
  if (facts.excerpts.length === 0) return undefined;
  const draft = new IepDraft(facts, request.promptText);
  if (section) return draft.section(section);
  const properties = schema.properties;
  const alwaysRequired = IEP_SECTION_KINDS.filter((kind) => kind !== "TRANSITION" && kind !== "TRANSFER_OF_RIGHTS");
  const items = isRecord(properties.templateItems) && isRecord(properties.templateItems.properties) ? properties.templateItems.properties : undefined;
  return {
    ...(items ? { templateItems: draft.templateItems(items) } : {}),
    ...Object.fromEntries(alwaysRequired.map((kind) => [SECTION_FIELD[kind], draft.section(kind)])),
    transition: isRequired(properties.transition, request.systemText, /Transition \(postsecondary[^\n]*: REQUIRED/, (facts.age ?? 0) >= 16)
      ? draft.section("TRANSITION") : null,
    transferOfRights: isRequired(properties.transferOfRights, request.systemText, /Transfer of rights[^\n]*: REQUIRED/, (facts.age ?? 0) >= 17)
      ? draft.section("TRANSFER_OF_RIGHTS") : null,
  };
}

/** Whether a nullable section must be written: the schema says so (object vs null), else the instructions, else the age. */
function isRequired(property: unknown, systemText: string, requiredLine: RegExp, byAge: boolean): boolean {
  if (isRecord(property) && property.type === "null") return false;
  if (isRecord(property) && isRecord(property.properties)) return true;
  if (requiredLine.test(systemText)) return true;
  return /must be null/i.test(systemText) ? false : byAge;
}

/** An evidence sentence to quote, with the excerpt it comes from and its area of need. */
interface Quote {
  excerpt: Excerpt;
  sentence: string;
  topic: Topic;
}

class IepDraft {
  private readonly facts: IepRequestFacts;
  private readonly name: string;
  private readonly supports: CategorySupport[];
  private readonly dataQuotes: Quote[];
  private readonly alternate: boolean;
  private readonly objectivesRequired: boolean;
  private readonly goals: { quote: Quote; hasData: boolean }[];

  constructor(facts: IepRequestFacts, promptText: string) {
    this.facts = facts;
    this.name = facts.firstName;
    this.supports = supportsFor(facts.categories);
    // One quote per excerpt; overlapping chunks of one document can give the same sentence twice.
    this.dataQuotes = facts.excerpts
      .flatMap((excerpt) => {
        const sentence = bestDataSentence(excerpt);
        return sentence ? [quoteOf(excerpt, sentence)] : [];
      })
      .filter((quote, index, all) => all.findIndex((other) => other.sentence === quote.sentence) === index);
    const evidenceText = facts.excerpts.map((excerpt) => excerpt.text).join("\n");
    // A section redraft stays consistent with the current IEP (given as JSON in the prompt): no
    // alternate assessment while its goals lack short-term objectives, and objectives whenever it has one.
    const currentGoalsLackObjectives = /"shortTermObjectives"\s*:\s*\[\s*\]/.test(promptText);
    this.alternate = facts.categories.some((category) => ALTERNATE_CATEGORIES.has(category)) && SEVERE_NEEDS.test(evidenceText) &&
      !currentGoalsLackObjectives;
    this.objectivesRequired = this.alternate || /"participation"\s*:\s*"ALTERNATE"/.test(promptText);
    this.goals = this.chooseGoals();
  }

  section(kind: IepSectionKind): Json {
    switch (kind) {
      case "PRESENT_LEVELS": return this.presentLevels();
      case "ANNUAL_GOALS": return { goals: this.goals.map(({ quote, hasData }) => this.goal(quote, hasData)) };
      case "PROGRESS_REPORTING": return this.progressReporting();
      case "SERVICES": return this.services();
      case "LEAST_RESTRICTIVE_ENVIRONMENT": return this.leastRestrictiveEnvironment();
      case "ASSESSMENT_PARTICIPATION": return this.assessmentParticipation();
      case "TRANSITION": return transitionSection(this.facts, this.alternate);
      case "TRANSFER_OF_RIGHTS": return transferOfRightsSection(this.facts.firstName);
    }
  }

  /**
   * A text for each extra item of the school's template (the schema's `templateItems` properties,
   * each described "<label>: <description>"): the label, a quoted evidence sentence and a note for
   * the team, the excerpts taken in turn.
   */
  templateItems(properties: Json): Json {
    return Object.fromEntries(Object.keys(properties).map((key, index) => {
      const description = isRecord(properties[key]) && typeof properties[key].description === "string" ? properties[key].description : key;
      const label = description.split(":")[0]!.trim() || key;
      const excerpt = this.facts.excerpts[index % this.facts.excerpts.length]!;
      const sentence = bestDataSentence(excerpt) ?? firstSentence(excerpt);
      return [key, `${label}: ${capitalize(sourceOf(excerpt))} notes: "${sentence}" The IEP team confirms this item for ${this.name} at the meeting.`];
    }));
  }

  private presentLevels(): Json {
    const nonTransition = this.dataQuotes.filter((quote) => !isTransitionExcerpt(quote.excerpt));
    const academic = this.dataQuotes.filter((quote) => isAcademicExcerpt(quote.excerpt));
    const functional = this.dataQuotes.filter((quote) => !isAcademicExcerpt(quote.excerpt));
    const fallback = (preferFunctional: boolean): Quote[] => {
      const pool = this.facts.excerpts.filter((excerpt) => isAcademicExcerpt(excerpt) !== preferFunctional);
      const excerpt = pool[0] ?? this.facts.excerpts[0]!;
      return [nonTransition[0] ?? this.dataQuotes[0] ?? quoteOf(excerpt, firstSentence(excerpt))];
    };
    const statement = (quote: Quote) => ({
      statement: `${quote.topic.area}: according to ${sourceOf(quote.excerpt)}, "${quote.sentence}"`,
      citations: [quote.excerpt.id],
    });
    const impactQuote = academic.find((quote) => quote.excerpt.kind === "EVALUATION") ?? academic[0] ?? nonTransition[0] ?? fallback(false)[0]!;
    const phrases = unique(this.supports.map((support) => support.phrase)).join(" and ");
    return {
      academicAchievement: firstOfEachDocument(academic.length > 0 ? academic : fallback(false)).map(statement),
      functionalPerformance: firstOfEachDocument(functional.length > 0 ? functional : fallback(true)).map(statement),
      disabilityImpact: {
        statement: `Because of ${phrases}, ${this.name} ${this.supports[0]!.impact}. ${capitalize(sourceOf(impactQuote.excerpt))} notes: "${impactQuote.sentence}"`,
        citations: [impactQuote.excerpt.id],
      },
    };
  }

  /**
   * Two or three goals from data sentences: school evidence before transition evidence, one per
   * area (recognised areas first); a third goal only for a distinct area. Without data, one goal
   * whose baseline is left to the team.
   */
  private chooseGoals(): { quote: Quote; hasData: boolean }[] {
    const ordered = [
      ...this.dataQuotes.filter((quote) => !isTransitionExcerpt(quote.excerpt) && !quote.topic.generic),
      ...this.dataQuotes.filter((quote) => isTransitionExcerpt(quote.excerpt) && !quote.topic.generic),
      ...this.dataQuotes.filter((quote) => quote.topic.generic),
    ];
    const chosen: Quote[] = [];
    for (const quote of ordered) if (chosen.length < MAX_GOALS && !chosen.some((c) => c.topic.area === quote.topic.area)) chosen.push(quote);
    for (const quote of ordered) if (chosen.length < 2 && !chosen.includes(quote)) chosen.push(quote);
    if (chosen.length > 0) return chosen.map((quote) => ({ quote, hasData: true }));
    const excerpt = this.facts.excerpts.find((e) => !isTransitionExcerpt(e)) ?? this.facts.excerpts[0]!;
    return [{ quote: quoteOf(excerpt, firstSentence(excerpt)), hasData: false }];
  }

  private goal(quote: Quote, hasData: boolean): Json {
    const { topic, excerpt, sentence } = quote;
    const behavior = `${this.name} ${topic.behavior}`;
    return {
      area: topic.area,
      baseline: hasData
        ? `${capitalize(sourceOf(excerpt))} reports: "${sentence}"`
        : `To be established by the IEP team in the first 4 weeks: ${sourceOf(excerpt)} gives no current data for this area.`,
      condition: topic.condition,
      behavior,
      criterion: topic.criterion(sentence),
      measurementMethod: topic.method,
      timeframe: `By ${longDate(this.facts.period.endDate)}, the annual review date`,
      citations: [excerpt.id],
      shortTermObjectives: this.objectivesRequired
        ? [
          `By the first quarterly progress report, ${behavior} with full prompting in 2 of 5 opportunities.`,
          `By the second quarterly progress report, ${behavior} with partial prompting in 3 of 5 opportunities.`,
          `By the third quarterly progress report, ${behavior} independently in 4 of 5 opportunities.`,
        ]
        : [],
    };
  }

  private progressReporting(): Json {
    const methods = unique(this.goals.map(({ quote }) => lowerFirst(quote.topic.method)));
    const language = /^english$/i.test(this.facts.language) ? "" : `, in ${this.facts.language} and English`;
    return {
      method: `Progress on each annual goal is measured as the goal states: ${methods.join("; ")}. The case manager reviews the data every 4 weeks.`,
      frequency: `Quarterly written progress reports to ${this.name}'s parents, sent home with the general education report cards (about every 9 weeks)${language}`,
    };
  }

  private serviceTemplates(): { special: ServiceTemplate[]; related: ServiceTemplate[] } {
    const speechOnly = this.facts.categories.length > 0 && this.facts.categories.every((c) => c === "SPEECH_OR_LANGUAGE_IMPAIRMENT");
    const specific = this.goals.filter(({ quote }) => !quote.topic.generic);
    const all = [
      ...(this.alternate ? [modifiedCurriculum] : []),
      ...(specific.length > 0 ? specific : this.goals).map(({ quote }) => quote.topic.service),
      ...this.supports.flatMap((support) => support.related),
    ].filter((template, index, list) => list.findIndex((other) => other.service === template.service) === index);
    const special = all.filter((t) => t.role === "teacher" || (t.role === "speech" && speechOnly)).slice(0, MAX_SERVICES);
    return {
      special: special.length > 0 ? special : [genericInstruction],
      related: all.filter((t) => t.role === "related" || (t.role === "speech" && !speechOnly)),
    };
  }

  private services(): Json {
    const { startDate, endDate } = this.facts.period;
    const item = (t: ServiceTemplate) => ({
      service: t.service, provider: t.provider, frequency: frequencyText(t.timesPerWeek), durationMinutes: t.minutes, location: t.location, startDate, endDate,
    });
    const { special, related } = this.serviceTemplates();
    const fromSupports = (pick: (support: CategorySupport) => string[]) => unique(this.supports.flatMap(pick));
    return {
      specialEducation: special.map(item),
      relatedServices: related.map(item),
      supplementaryAids: fromSupports((s) => s.aids).slice(0, 4),
      programModifications: [
        ...(this.alternate ? ["Curriculum modified to alternate academic achievement standards"] : []),
        ...fromSupports((s) => s.modifications),
      ].slice(0, 3),
      personnelSupports: fromSupports((s) => s.personnel).slice(0, 3),
    };
  }

  private leastRestrictiveEnvironment(): Json {
    const { special, related } = this.serviceTemplates();
    const pulledOut = [...special, ...related].filter((t) => !/^general education/i.test(t.location));
    const minutes = Math.round(pulledOut.reduce((sum, t) => sum + t.timesPerWeek * t.minutes, 0));
    const percent = Math.min(100, Math.max(0, Math.round(100 - (minutes * 100) / SCHOOL_WEEK_MINUTES)));
    const withPeers = `${this.name} will spend about ${percent}% of the school day in general education classes with nondisabled peers, and will take part with them in lunch, recess, specials, assemblies and extracurricular activities.`;
    if (minutes === 0) return { percentTimeInGeneralEducation: percent, explanation: `${withPeers} All services are provided in the general education classroom.` };
    const why = this.alternate
      ? `${this.name} needs intensive, small-group instruction in a modified curriculum and functional skills that cannot be provided during whole-class instruction`
      : "these services need a small-group, low-distraction setting that whole-class instruction cannot provide";
    const locations = unique(pulledOut.map((t) => t.location));
    const list = locations.map((location) =>
      `${listText(pulledOut.filter((t) => t.location === location).map((t) => lowerFirst(t.service)))} in the ${location.toLowerCase()}`).join("; ");
    return {
      percentTimeInGeneralEducation: percent,
      explanation: `${withPeers} ${this.name} will be out of the general education classroom about ${minutes} minutes a week for ${list}, because ${why}.`,
    };
  }

  private assessmentParticipation(): Json {
    if (this.alternate) {
      return {
        participation: "ALTERNATE",
        accommodations: ["Familiar test administrator", "Directions simplified and read aloud", "Frequent breaks"],
        alternateAssessmentJustification: `${this.name} has a significant cognitive disability and is taught to alternate academic achievement standards with extensive, individualized support across settings; even with accommodations the regular assessment would not measure what ${this.name} is learning, so the State's alternate assessment is appropriate.`,
      };
    }
    return {
      participation: "GENERAL_WITH_ACCOMMODATIONS",
      accommodations: unique(this.supports.flatMap((support) => support.accommodations)).slice(0, 3),
      alternateAssessmentJustification: null,
    };
  }
}

const modifiedCurriculum: ServiceTemplate = {
  service: "Specialized academic instruction (modified curriculum)", provider: "Special education teacher", timesPerWeek: 5, minutes: 60,
  location: "Special education classroom", role: "teacher",
};
const genericInstruction: ServiceTemplate = {
  service: "Specialized academic instruction", provider: "Special education teacher", timesPerWeek: 3, minutes: 30, location: "Resource room", role: "teacher",
};

/** Up to MAX_STATEMENTS quotes, one per evidence document first (chunks of one document share its title). */
function firstOfEachDocument(quotes: readonly Quote[]): Quote[] {
  const firsts = quotes.filter((quote, index) => quotes.findIndex((other) => other.excerpt.title === quote.excerpt.title) === index);
  return [...firsts, ...quotes.filter((quote) => !firsts.includes(quote))].slice(0, MAX_STATEMENTS);
}

function quoteOf(excerpt: Excerpt, sentence: string): Quote {
  return { excerpt, sentence, topic: topicFor(excerpt.title, sentence, isAcademicExcerpt(excerpt) ? "Academic skills" : "Functional skills") };
}

/** "a", "a and b", "a, b and c". */
function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
