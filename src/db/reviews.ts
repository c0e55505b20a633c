/** Reads for the review workflow: section provenance, edit context. */
import { z } from "zod";
import type { Queryable } from "./pool.ts";

const ProvenanceRow = z.object({
  iep_id: z.string(),
  kind: z.string(),
  source_iep_id: z.string(),
  edited_by: z.string().nullable(),
  edited_at: z.date().nullable(),
  changed_paths: z.array(z.string()).nullable(),
  model: z.string(),
  prompt_version: z.string().nullable(),
  generation_id: z.string().nullable(),
});
export type ProvenanceRecord = z.infer<typeof ProvenanceRow>;

/**
 * Where each (IEP, section) comes from, in one statement: the section's latest edit record on the
 * IEP, or else on the version it was copied from (the FINAL version an edit continued; for a
 * SECTION regeneration, the base IEP for every section but the redrafted one), and so on up;
 * with no edit on the way, the version at the top was drafted by its generation (AI: `edited_by`
 * null, `model`, `prompt_version`, `generation_id` of that version).
 */
export async function findSectionProvenance(db: Queryable, schoolId: string, keys: readonly { iepId: string; kind: string }[]): Promise<ProvenanceRecord[]> {
  const { rows } = await db.query(
    `with recursive chain as (
       select w.iep_id as origin, w.kind, i.id as at_id, i.based_on_iep_id, i.generation_id, 0 as depth
       from unnest($2::uuid[], $3::text[]) w(iep_id, kind) join ieps i on i.id = w.iep_id and i.school_id = $1
       union all
       select c.origin, c.kind, p.id, p.based_on_iep_id, p.generation_id, c.depth + 1
       from chain c
       left join generations g on g.id = c.generation_id
       join ieps p on p.id = coalesce(c.based_on_iep_id, case when g.kind = 'SECTION' and g.section_kind <> c.kind then g.base_iep_id end)
       where c.depth < 100 and not exists (select 1 from iep_section_edits e where e.iep_id = c.at_id and e.section_kind = c.kind)
     )
     select distinct on (c.origin, c.kind) c.origin as iep_id, c.kind, c.at_id as source_iep_id,
       e.edited_by, e.edited_at, e.changed_paths, i.model, i.prompt_version, i.generation_id
     from chain c
     join ieps i on i.id = c.at_id
     left join lateral (
       select edited_by, edited_at, changed_paths from iep_section_edits e
       where e.iep_id = c.at_id and e.section_kind = c.kind order by e.id desc limit 1
     ) e on true
     order by c.origin, c.kind, c.depth desc`,
    [schoolId, keys.map((k) => k.iepId), keys.map((k) => k.kind)],
  );
  return rows.map((row) => ProvenanceRow.parse(row));
}

/** What validating an edit needs about the student: the date of birth and which of `citedIds` are its chunks. */
export interface EditContext {
  dateOfBirth: string;
  ownChunkIds: string[];
}

/** The student's date of birth and those of `citedIds` (UUIDs) that are the student's evidence chunks. */
export async function findEditContext(db: Queryable, schoolId: string, studentId: string, citedIds: readonly string[]): Promise<EditContext | undefined> {
  const { rows } = await db.query(
    `select to_char(s.date_of_birth, 'YYYY-MM-DD') as date_of_birth,
       array(select c.id::text from evidence_chunks c where c.school_id = s.school_id and c.student_id = s.id and c.id = any($3::uuid[])) as chunk_ids
     from students s where s.school_id = $1 and s.id = $2`,
    [schoolId, studentId, citedIds],
  );
  const row = rows[0] as { date_of_birth: string; chunk_ids: string[] } | undefined;
  return row ? { dateOfBirth: row.date_of_birth, ownChunkIds: row.chunk_ids } : undefined;
}
