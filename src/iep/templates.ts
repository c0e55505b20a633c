/**
 * IEP templates: what a school's template version says about an IEP (section order and labels,
 * extra required items, default instructions), and how to lay an IEP out by it. The built-in
 * DEFAULT_TEMPLATE is today's §300.320 structure (migrations/0015_templates.sql stores the same).
 *
 * Consumers that show an IEP (the print view, `Iep.sections`) call `iepLayout(content, version)`:
 * the sections in the template's order with its labels, each with its extra items and their values.
 */
import { z } from "zod";
import { IEP_SECTION_KINDS, SECTION_FIELD, type IepSectionKind } from "./content.ts";
import { isRecord } from "./rules.ts";

/** One section of a template: which part of the IEP, under which heading. */
export interface TemplateSection {
  kind: IepSectionKind;
  label: string;
}

/** A state-specific field the draft must fill in; shown within `section`. */
export interface TemplateItem {
  /** The item's key in the IEP content's `templateItems` (camelCase identifier). */
  key: string;
  label: string;
  /** What to write; given to the model. */
  description: string;
  section: IepSectionKind;
}

/** One immutable version of a template. */
export interface TemplateVersion {
  id: string;
  templateId: string;
  version: number;
  sections: TemplateSection[];
  extraItems: TemplateItem[];
  defaultInstructions: string | null;
}

export const DEFAULT_TEMPLATE_ID = "00000000-0000-4000-8000-000000000320";
export const DEFAULT_TEMPLATE_VERSION_ID = "00000000-0000-4000-8000-000000000321";

/** Today's labels of the §300.320 sections. */
export const DEFAULT_SECTION_LABELS: Record<IepSectionKind, string> = {
  PRESENT_LEVELS: "Present levels of academic achievement and functional performance",
  ANNUAL_GOALS: "Measurable annual goals",
  PROGRESS_REPORTING: "Measuring and reporting progress",
  SERVICES: "Special education, related and supplementary services, modifications and supports",
  LEAST_RESTRICTIVE_ENVIRONMENT: "Least restrictive environment",
  ASSESSMENT_PARTICIPATION: "Participation in State and districtwide assessments",
  TRANSITION: "Postsecondary goals and transition services",
  TRANSFER_OF_RIGHTS: "Transfer of rights at the age of majority",
};

/** The built-in template's only version: §300.320 order, today's labels, no extra items. */
export const DEFAULT_TEMPLATE: TemplateVersion = {
  id: DEFAULT_TEMPLATE_VERSION_ID,
  templateId: DEFAULT_TEMPLATE_ID,
  version: 1,
  sections: IEP_SECTION_KINDS.map((kind) => ({ kind, label: DEFAULT_SECTION_LABELS[kind] })),
  extraItems: [],
  defaultInstructions: null,
};

export const MAX_EXTRA_ITEMS = 20;
const label = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");
const SectionKind = z.enum(IEP_SECTION_KINDS);

export const TemplateSectionInput = z.object({ kind: SectionKind, label });
export const TemplateItemInput = z.object({
  key: z.string().trim().regex(/^[a-z][A-Za-z0-9]{0,39}$/, "must be a camelCase identifier (a letter, then letters or digits; at most 40)"),
  label,
  description: z.string().trim().min(1, "must not be empty").max(1000, "must be at most 1000 characters"),
  section: SectionKind,
});

/** Section order and labels: every section exactly once. */
export const TemplateSections = z.array(TemplateSectionInput)
  .refine((sections) => sections.length === IEP_SECTION_KINDS.length && new Set(sections.map((s) => s.kind)).size === IEP_SECTION_KINDS.length,
    `must list each of the ${IEP_SECTION_KINDS.length} sections (${IEP_SECTION_KINDS.join(", ")}) exactly once`);
export const TemplateItems = z.array(TemplateItemInput).max(MAX_EXTRA_ITEMS, `at most ${MAX_EXTRA_ITEMS} extra items`)
  .refine((items) => new Set(items.map((i) => i.key)).size === items.length, "keys must be unique");
export const DefaultInstructions = z.string().trim().max(2000, "must be at most 2000 characters").nullish()
  .transform((value) => (value ? value : null));

/** A template version's stored JSON (sections, extra_items columns), parsed. */
export function parseTemplateVersion(row: {
  id: string; template_id: string; version: number; sections: unknown; extra_items: unknown; default_instructions: string | null;
}): TemplateVersion {
  return {
    id: row.id, templateId: row.template_id, version: row.version,
    sections: z.array(TemplateSectionInput).parse(row.sections),
    extraItems: z.array(TemplateItemInput).parse(row.extra_items),
    defaultInstructions: row.default_instructions,
  };
}

/** An extra item with its value in an IEP (null when the IEP has none, e.g. a template changed under an edit). */
export interface LaidOutItem extends TemplateItem {
  value: string | null;
}

/** One section of an IEP as its template shows it. */
export interface LaidOutSection {
  kind: IepSectionKind;
  label: string;
  /** The section's content; null for a section that does not apply (transition, transfer of rights). */
  content: unknown;
  extraItems: LaidOutItem[];
}

/**
 * The sections of an IEP in its template's order with the template's labels, each with the extra
 * items that belong to it and their values from `content.templateItems`. Without a template
 * (`version` null or undefined: an IEP from before templates) the built-in §300.320 order and
 * labels. Sections whose content is null (not required for this student) are included with
 * `content: null`; filter them out to show only the sections present.
 */
export function iepLayout(content: Record<string, unknown>, version: TemplateVersion | null | undefined): LaidOutSection[] {
  const template = version ?? DEFAULT_TEMPLATE;
  const values = isRecord(content.templateItems) ? content.templateItems : {};
  return template.sections.map(({ kind, label: sectionLabel }) => ({
    kind,
    label: sectionLabel,
    content: content[SECTION_FIELD[kind]] ?? null,
    extraItems: template.extraItems.filter((item) => item.section === kind).map((item) => ({
      ...item, value: typeof values[item.key] === "string" ? (values[item.key] as string) : null,
    })),
  }));
}

/** The label a template gives a section (the built-in label without a template). */
export function sectionLabel(version: TemplateVersion | null | undefined, kind: IepSectionKind): string {
  return (version ?? DEFAULT_TEMPLATE).sections.find((s) => s.kind === kind)?.label ?? DEFAULT_SECTION_LABELS[kind];
}
