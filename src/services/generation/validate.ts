import { citedChunkIds, SECTION_FIELD, type IepContent, type IepSectionKind } from "../../iep/content.ts";
import { checkIepContent, type IepPeriod, type SectionRequirements } from "../../iep/rules.ts";
import type { GenerationKind } from "../../db/generations.ts";
import { DraftRejectedError } from "./errors.ts";

/** What a draft must satisfy: its zod schema, IDEA rules for this student, and citations of chunks it was shown. */
export interface DraftRules {
  schema: { safeParse(value: unknown): { success: boolean; data?: unknown; error?: { issues: { path: PropertyKey[]; message: string }[] } } };
  kind: GenerationKind;
  sections: IepSectionKind[];
  /** For SECTION generations: the IEP whose other sections are kept. */
  base: IepContent | undefined;
  requirements: SectionRequirements;
  period: IepPeriod;
  allowedChunkIds: ReadonlySet<string>;
}

/**
 * Parses and validates a model's draft (JSON, the zod schema, then IEP rules and citations) and
 * returns the IEP content to store. Throws DraftRejectedError naming at most five problems.
 */
export function validateDraft(text: string, rules: DraftRules): IepContent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DraftRejectedError("The model's draft was not valid JSON");
  }
  const parsed = rules.schema.safeParse(json);
  if (!parsed.success) {
    const issues = (parsed.error?.issues ?? []).slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new DraftRejectedError(`The draft does not match the IEP schema: ${issues.join("; ")}`);
  }
  const content = (rules.kind === "SECTION" ? { ...rules.base, [SECTION_FIELD[rules.sections[0]!]]: parsed.data } : parsed.data) as IepContent;
  const allowedChunkIds = new Set([...rules.allowedChunkIds, ...citedChunkIds(rules.base)]);
  const violations = checkIepContent(content, { requirements: rules.requirements, period: rules.period, allowedChunkIds });
  if (violations.length > 0) {
    throw new DraftRejectedError(`The draft breaks IEP rules: ${violations.slice(0, 5).map((v) => `${v.path}: ${v.message}`).join("; ")}`);
  }
  return content;
}

const MAX_ECHOED_DRAFT_CHARS = 20_000;

/**
 * The one repair request: the original prompt, the rejected draft and what was wrong with it, all
 * passed through `privacy.mask` (the draft may repeat identifiers; the prompt is masked already, and
 * masking twice changes nothing).
 */
export function repairPrompt(prompt: string, rejectedDraft: string, problems: string, privacy: { mask(text: string): string }): string {
  return privacy.mask([
    prompt,
    "",
    "Your previous answer was rejected by validation. Problems:",
    problems,
    "",
    "Your previous answer was:",
    rejectedDraft.slice(0, MAX_ECHOED_DRAFT_CHARS),
    "",
    "Answer again with the whole corrected JSON, fixing every problem listed. Cite only chunk ids given above.",
  ].join("\n"));
}
