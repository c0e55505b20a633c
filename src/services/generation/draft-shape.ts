/** The draft's schemas for its shape (a whole IEP or one section, and the template's extra items). */
import type { IepSectionKind } from "../../iep/content.ts";
import { draftContentSchemaFor, responseJsonSchema, sectionSchemaFor, type SectionRequirements } from "../../iep/rules.ts";
import type { TemplateVersion } from "../../iep/templates.ts";
import type { DraftRules } from "./validate.ts";

const schemas = new Map<string, { schema: DraftRules["schema"]; jsonSchema: Record<string, unknown> }>();
const MAX_CACHED_SCHEMAS = 500;

/**
 * The zod schema a draft must match and its JSON Schema for Gemini, built once per shape (a whole
 * IEP or one section, with or without transition and transfer of rights, and a whole IEP's template
 * version: its extra items) and then reused: building the JSON Schema costs milliseconds. Template
 * versions never change, so their id keys the shape. Read only.
 */
export function draftSchemas(section: IepSectionKind | undefined, requirements: SectionRequirements, template: TemplateVersion) {
  const items = section || template.extraItems.length === 0 ? "" : template.id;
  const key = `${section ?? "FULL_IEP"}:${requirements.transition}:${requirements.transferOfRights}:${items}`;
  let found = schemas.get(key);
  if (!found) {
    const schema = section ? sectionSchemaFor(section, requirements) : draftContentSchemaFor(requirements, template.extraItems);
    found = { schema, jsonSchema: responseJsonSchema(schema) };
    if (schemas.size >= MAX_CACHED_SCHEMAS) schemas.clear();
    schemas.set(key, found);
  }
  return found;
}

