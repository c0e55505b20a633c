/**
 * The version of the drafting prompt and schema (src/iep/prompt.ts, content.ts, rules.ts): an
 * AI-drafted section's provenance names it. Bump it when the prompt changes what a draft says, in
 * the same change as a migration `alter table ieps alter column prompt_version set default '<new>'`
 * (the generation's `succeed` statement stores the IEP without naming it; the column default does).
 */
export const PROMPT_VERSION = "iep-prompt-2026-11";
