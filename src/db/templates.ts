/** IEP templates and their immutable versions (migrations/0015_templates.sql). */
import { z } from "zod";
import { parseTemplateVersion, type TemplateItem, type TemplateSection, type TemplateVersion } from "../iep/templates.ts";
import type { Queryable } from "./pool.ts";

const TemplateRow = z.object({
  id: z.string(),
  school_id: z.string().nullable(),
  name: z.string(),
  archived_at: z.date().nullable(),
  created_by: z.string().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type TemplateRecord = z.infer<typeof TemplateRow>;

const VersionRow = z.object({
  id: z.string(),
  template_id: z.string(),
  version: z.number(),
  sections: z.unknown(),
  extra_items: z.unknown(),
  default_instructions: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.date(),
});
export type TemplateVersionRecord = TemplateVersion & { createdBy: string | null; createdAt: Date };

function parseVersion(row: unknown): TemplateVersionRecord {
  const parsed = VersionRow.parse(row);
  return { ...parseTemplateVersion(parsed), createdBy: parsed.created_by, createdAt: parsed.created_at };
}

/** The built-in template and the school's templates, built-in first, then oldest first. */
export async function listTemplates(db: Queryable, schoolId: string): Promise<TemplateRecord[]> {
  const { rows } = await db.query(
    `select * from iep_templates where school_id is null or school_id = $1
     order by school_id is not null, created_at, id`,
    [schoolId],
  );
  return rows.map((row) => TemplateRow.parse(row));
}

/** Templates the school may read (its own and the built-in one) by id; unknown ids are absent. */
export async function findTemplatesByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<TemplateRecord[]> {
  const { rows } = await db.query(
    "select * from iep_templates where (school_id is null or school_id = $1) and id = any($2::uuid[])",
    [schoolId, ids],
  );
  return rows.map((row) => TemplateRow.parse(row));
}

/** Versions the school may read by id; unknown ids are absent. */
export async function findTemplateVersionsByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<TemplateVersionRecord[]> {
  const { rows } = await db.query(
    "select * from iep_template_versions where (school_id is null or school_id = $1) and id = any($2::uuid[])",
    [schoolId, ids],
  );
  return rows.map(parseVersion);
}

/** Every version of several templates, each template's newest first. */
export async function listVersionsOfTemplates(db: Queryable, schoolId: string, templateIds: readonly string[]): Promise<TemplateVersionRecord[]> {
  const { rows } = await db.query(
    `select * from iep_template_versions where (school_id is null or school_id = $1) and template_id = any($2::uuid[])
     order by template_id, version desc`,
    [schoolId, templateIds],
  );
  return rows.map(parseVersion);
}

/** The newest version of each of several templates (any order). */
export async function latestVersionsOfTemplates(db: Queryable, schoolId: string, templateIds: readonly string[]): Promise<TemplateVersionRecord[]> {
  const { rows } = await db.query(
    `select distinct on (template_id) * from iep_template_versions
     where (school_id is null or school_id = $1) and template_id = any($2::uuid[])
     order by template_id, version desc`,
    [schoolId, templateIds],
  );
  return rows.map(parseVersion);
}

export interface TemplateContent {
  sections: TemplateSection[];
  extraItems: TemplateItem[];
  defaultInstructions: string | null;
}

/** Creates a template of the school and its version 1, in one statement. */
export async function insertTemplate(db: Queryable, schoolId: string, userId: string, name: string, content: TemplateContent): Promise<TemplateRecord> {
  const { rows } = await db.query(
    `with template as (
       insert into iep_templates (school_id, name, created_by) values ($1, $2, $3) returning *
     ), version as (
       insert into iep_template_versions (template_id, school_id, version, sections, extra_items, default_instructions, created_by)
       select id, $1, 1, $4::jsonb, $5::jsonb, $6, $3 from template
     )
     select * from template`,
    [schoolId, name, userId, JSON.stringify(content.sections), JSON.stringify(content.extraItems), content.defaultInstructions],
  );
  return TemplateRow.parse(rows[0]);
}

/** Locks one of the school's own templates (never the built-in one) for the rest of the transaction. */
export async function lockOwnTemplate(db: Queryable, schoolId: string, id: string): Promise<TemplateRecord | undefined> {
  const { rows } = await db.query("select * from iep_templates where school_id = $1 and id = $2 for update", [schoolId, id]);
  return rows[0] ? TemplateRow.parse(rows[0]) : undefined;
}

/** The newest version of a template (read after lockOwnTemplate, so no version is added meanwhile). */
export async function latestTemplateVersion(db: Queryable, templateId: string): Promise<TemplateVersionRecord | undefined> {
  const { rows } = await db.query("select * from iep_template_versions where template_id = $1 order by version desc limit 1", [templateId]);
  return rows[0] ? parseVersion(rows[0]) : undefined;
}

/** Adds the next version of a locked template and renames it; returns the template row. */
export async function insertTemplateVersion(
  db: Queryable, schoolId: string, userId: string, templateId: string, name: string, content: TemplateContent,
): Promise<TemplateRecord> {
  const { rows } = await db.query(
    `with version as (
       insert into iep_template_versions (template_id, school_id, version, sections, extra_items, default_instructions, created_by)
       select $2, $1, coalesce(max(version), 0) + 1, $4::jsonb, $5::jsonb, $6, $7 from iep_template_versions where template_id = $2
     )
     update iep_templates set name = $3, updated_at = now() where id = $2 and school_id = $1 returning *`,
    [schoolId, templateId, name, JSON.stringify(content.sections), JSON.stringify(content.extraItems), content.defaultInstructions, userId],
  );
  return TemplateRow.parse(rows[0]);
}

/** Archives one of the school's own templates (no new generation may use it); undefined when not the school's. */
export async function archiveTemplate(db: Queryable, schoolId: string, id: string): Promise<TemplateRecord | undefined> {
  const { rows } = await db.query(
    "update iep_templates set archived_at = coalesce(archived_at, now()), updated_at = now() where school_id = $1 and id = $2 returning *",
    [schoolId, id],
  );
  return rows[0] ? TemplateRow.parse(rows[0]) : undefined;
}

/**
 * For the one-statement enqueue (src/lifecycle/generation.ts): CTE `template_version`, the version a
 * request uses: `$version` when given (a section redraft keeps its IEP's), else the latest version of
 * template `$template` (the school's own or the built-in one, not archived), else the built-in
 * template's latest. Empty when `$template` is none the school may use.
 */
export function templateVersionCte(schoolId: string, templateId: string, versionId: string, defaultTemplateId: string): string {
  return `template_version as (
    select coalesce(${versionId}::uuid, (
      select v.id from iep_template_versions v join iep_templates t on t.id = v.template_id
      where t.id = coalesce(${templateId}::uuid, '${defaultTemplateId}'::uuid) and (t.school_id is null or t.school_id = ${schoolId})
        and t.archived_at is null
      order by v.version desc limit 1)) as id
  )`;
}
