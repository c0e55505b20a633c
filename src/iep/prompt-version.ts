/**
 * The version of the drafting prompt and schema (src/iep/prompt.ts, content.ts, rules.ts): an
 * AI-drafted section's provenance names it. Bump it when the prompt changes what a draft says: the
 * generation's `succeed` statement stores it with each IEP (the column's default in
 * migrations/0014_review.sql only fills rows nothing named it for).
 */
export const PROMPT_VERSION = "iep-prompt-2026-11";
