/** IEP templates: create, version (each update is a new immutable version) and archive; ADMIN only (schema). */
import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import { withTransaction } from "../db/pool.ts";
import {
  archiveTemplate, findTemplatesByIds, insertTemplate, insertTemplateVersion, latestTemplateVersion, lockOwnTemplate,
  type TemplateRecord,
} from "../db/templates.ts";
import { InvalidStateError, MAX_ID_LENGTH, NotFoundError, parseInput } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_ID, DefaultInstructions, TemplateItems, TemplateSections } from "../iep/templates.ts";

const name = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");

/** What createIepTemplate accepts; sections default to the built-in order and labels. */
export const CreateIepTemplateInput = z.object({
  name,
  sections: TemplateSections.nullish(),
  extraItems: TemplateItems.nullish(),
  defaultInstructions: DefaultInstructions,
});

/** What updateIepTemplate accepts: what is absent is kept from the latest version. */
export const UpdateIepTemplateInput = z.object({
  id: z.string().max(MAX_ID_LENGTH, "is too long to be an id"),
  name: name.nullish(),
  sections: TemplateSections.nullish(),
  extraItems: TemplateItems.nullish(),
  defaultInstructions: z.string().trim().max(2000, "must be at most 2000 characters").nullish(),
});

/** Creates a template of the viewer's school with its version 1. Bad input: ValidationError, nothing written. */
export async function createIepTemplate(pool: pg.Pool, viewer: Viewer, input: unknown): Promise<TemplateRecord> {
  const valid = parseInput(CreateIepTemplateInput, input);
  return withTransaction(pool, (client) => insertTemplate(client, viewer.schoolId, viewer.userId, valid.name, {
    sections: valid.sections ?? DEFAULT_TEMPLATE.sections,
    extraItems: valid.extraItems ?? [],
    defaultInstructions: valid.defaultInstructions,
  }));
}

/**
 * Adds a new version to one of the school's templates: the fields given replace the latest
 * version's (an empty `defaultInstructions` clears them), the others are copied. IEPs that used an
 * older version keep it. The built-in template is read-only (InvalidStateError); an archived one
 * cannot change either.
 */
export async function updateIepTemplate(pool: pg.Pool, viewer: Viewer, input: unknown): Promise<TemplateRecord> {
  const valid = parseInput(UpdateIepTemplateInput, input);
  if (valid.id === DEFAULT_TEMPLATE_ID) throw new InvalidStateError("The built-in template is read-only: create a template of your own", "BUILT_IN");
  return withTransaction(pool, async (client) => {
    const template = isUuid(valid.id) ? await lockOwnTemplate(client, viewer.schoolId, valid.id) : undefined;
    if (!template) throw new NotFoundError("IepTemplate", valid.id);
    if (template.archived_at) throw new InvalidStateError("This template is archived and cannot change", "ARCHIVED");
    const latest = (await latestTemplateVersion(client, template.id))!;
    return insertTemplateVersion(client, viewer.schoolId, viewer.userId, template.id, valid.name ?? template.name, {
      sections: valid.sections ?? latest.sections,
      extraItems: valid.extraItems ?? latest.extraItems,
      defaultInstructions: valid.defaultInstructions === undefined || valid.defaultInstructions === null
        ? latest.defaultInstructions : valid.defaultInstructions || null,
    });
  });
}

/** Archives one of the school's templates: new generations can no longer ask for it; IEPs that used it keep it. */
export async function archiveIepTemplate(pool: pg.Pool, viewer: Viewer, id: string): Promise<TemplateRecord> {
  if (id === DEFAULT_TEMPLATE_ID) throw new InvalidStateError("The built-in template is read-only", "BUILT_IN");
  const archived = isUuid(id) ? await archiveTemplate(pool, viewer.schoolId, id) : undefined;
  if (!archived) throw new NotFoundError("IepTemplate", id);
  return archived;
}

/** Whether the school may use template `id` for a new generation (its own, not archived, or the built-in one). */
export async function usableTemplate(pool: pg.Pool, schoolId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const [template] = await findTemplatesByIds(pool, schoolId, [id]);
  return template !== undefined && template.archived_at === null;
}

