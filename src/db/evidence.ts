import { z } from "zod";
import type { Queryable } from "./pool.ts";

export const EVIDENCE_KINDS = [
  "EVALUATION", "PRIOR_IEP", "PROGRESS_NOTE", "TEACHER_OBSERVATION", "PARENT_INPUT", "ASSESSMENT", "OTHER",
] as const;
export const EvidenceKind = z.enum(EVIDENCE_KINDS);
export type EvidenceKind = z.infer<typeof EvidenceKind>;
export const EvidenceStatus = z.enum(["PENDING", "READY", "FAILED"]);
export type EvidenceStatus = z.infer<typeof EvidenceStatus>;
/** Where a PENDING file document's ingestion is: reading its text (page by page), then embedding it. */
export const EvidenceStage = z.enum(["EXTRACTING", "EMBEDDING"]);
export type EvidenceStage = z.infer<typeof EvidenceStage>;

/** An evidence row; `attempts` counts ingestion attempts, `runner_id` is the process ingesting it. */
export const EvidenceRow = z.object({
  id: z.string(),
  school_id: z.string(),
  student_id: z.string(),
  kind: EvidenceKind,
  title: z.string(),
  /** Typed text, or a file's extracted text ('' until it is extracted). */
  body: z.string(),
  status: EvidenceStatus,
  stage: EvidenceStage.nullable(),
  page_count: z.number().nullable(),
  pages_done: z.number(),
  file_name: z.string().nullable(),
  file_media_type: z.string().nullable(),
  file_byte_size: z.number().nullable(),
  file_sha256: z.string().nullable(),
  error: z.string().nullable(),
  chunk_count: z.number(),
  attempts: z.number(),
  runner_id: z.string().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type Evidence = z.infer<typeof EvidenceRow>;

const EvidenceChunkRow = z.object({
  id: z.string(),
  school_id: z.string(),
  student_id: z.string(),
  evidence_id: z.string(),
  ordinal: z.number(),
  /** The page of a paged document (PDF, image) the text came from, from 1; null for typed text and DOCX. */
  page: z.number().nullable(),
  text: z.string(),
});
export type EvidenceChunk = z.infer<typeof EvidenceChunkRow>;

export const EVIDENCE_COLUMNS = `id, school_id, student_id, kind, title, body, status, stage, page_count, pages_done, error, chunk_count,
  attempts, runner_id, file_name, file_media_type, file_byte_size, file_sha256, created_at, updated_at`;
const CHUNK_COLUMNS = "id, school_id, student_id, evidence_id, ordinal, page, text";

/** The original bytes of a file document, with what its download needs. */
export interface EvidenceFile {
  evidenceId: string;
  schoolId: string;
  studentId: string;
  filename: string;
  mediaType: string;
  content: Buffer;
  /** The text an earlier attempt read from it, page by page; null until one has. */
  extractedPages: { page: number | null; text: string }[] | null;
}

/** The school an evidence document belongs to (system: tasks learn it before they run as that school). */
export async function schoolOfEvidence(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query("select school_id from evidence where id = $1", [id]);
  return rows[0] ? z.string().parse(rows[0].school_id) : undefined;
}

/** A file document's original bytes (undefined for typed evidence, or another school's). */
export async function findEvidenceFile(db: Queryable, schoolId: string, evidenceId: string): Promise<EvidenceFile | undefined> {
  const { rows } = await db.query(
    `select e.id, e.school_id, e.student_id, e.file_name, e.file_media_type, f.content, f.extracted_pages
     from evidence e join evidence_files f on f.evidence_id = e.id and f.school_id = e.school_id
     where e.school_id = $1 and e.id = $2`,
    [schoolId, evidenceId],
  );
  const row = rows[0];
  return row
    ? {
        evidenceId: row.id, schoolId: row.school_id, studentId: row.student_id, filename: row.file_name, mediaType: row.file_media_type,
        content: row.content, extractedPages: row.extracted_pages,
      }
    : undefined;
}

/** Locks one evidence row for the rest of the transaction, so concurrent ingestions of it serialise. */
export async function lockEvidence(db: Queryable, id: string): Promise<Evidence | undefined> {
  const { rows } = await db.query(`select ${EVIDENCE_COLUMNS} from evidence where id = $1 for update`, [id]);
  return rows[0] ? EvidenceRow.parse(rows[0]) : undefined;
}

export async function findEvidence(db: Queryable, schoolId: string, id: string): Promise<Evidence | undefined> {
  const { rows } = await db.query(`select ${EVIDENCE_COLUMNS} from evidence where school_id = $1 and id = $2`, [
    schoolId,
    id,
  ]);
  return rows[0] ? EvidenceRow.parse(rows[0]) : undefined;
}

/** Evidence documents of the school by id (any order; unknown ids are absent). */
export async function findEvidenceByIds(db: Queryable, schoolId: string, ids: readonly string[]): Promise<Evidence[]> {
  const { rows } = await db.query(`select ${EVIDENCE_COLUMNS} from evidence where school_id = $1 and id = any($2::uuid[])`, [
    schoolId,
    ids,
  ]);
  return rows.map((row) => EvidenceRow.parse(row));
}

/** The evidence of several students of the school, each student's oldest first. */
export async function listEvidenceForStudents(db: Queryable, schoolId: string, studentIds: readonly string[]): Promise<Evidence[]> {
  const { rows } = await db.query(
    `select ${EVIDENCE_COLUMNS} from evidence where school_id = $1 and student_id = any($2::uuid[]) order by created_at, id`,
    [schoolId, studentIds],
  );
  return rows.map((row) => EvidenceRow.parse(row));
}

/** The chunks of several evidence documents of the school, each document's in order. */
export async function listChunksForEvidenceIds(db: Queryable, schoolId: string, evidenceIds: readonly string[]): Promise<EvidenceChunk[]> {
  const { rows } = await db.query(
    `select ${CHUNK_COLUMNS} from evidence_chunks where school_id = $1 and evidence_id = any($2::uuid[]) order by evidence_id, ordinal`,
    [schoolId, evidenceIds],
  );
  return rows.map((row) => EvidenceChunkRow.parse(row));
}

export async function findChunks(db: Queryable, schoolId: string, ids: readonly string[]): Promise<EvidenceChunk[]> {
  const { rows } = await db.query(`select ${CHUNK_COLUMNS} from evidence_chunks where school_id = $1 and id = any($2::uuid[])`, [
    schoolId,
    ids,
  ]);
  return rows.map((row) => EvidenceChunkRow.parse(row));
}

/** Replaces an evidence document's chunks (call inside the transaction that marks it READY). */
export async function replaceChunks(
  db: Queryable,
  evidence: Pick<Evidence, "id" | "school_id" | "student_id">,
  chunks: readonly { text: string; page: number | null; embedding: readonly number[] }[],
): Promise<void> {
  await db.query("delete from evidence_chunks where evidence_id = $1", [evidence.id]);
  if (chunks.length === 0) return;
  await db.query(
    `insert into evidence_chunks (school_id, student_id, evidence_id, ordinal, page, text, embedding)
     select $1, $2, $3, ordinality - 1, chunk.page, chunk.text, chunk.embedding::vector
     from unnest($4::text[], $5::int[], $6::text[]) with ordinality as chunk(text, page, embedding)`,
    [
      evidence.school_id, evidence.student_id, evidence.id, chunks.map((c) => c.text), chunks.map((c) => c.page),
      chunks.map((c) => toVectorLiteral(c.embedding)),
    ],
  );
}

/** A chunk found by hybrid retrieval with its fused score and the ranks that produced it. */
export interface RankedChunk {
  chunk: EvidenceChunk;
  score: number;
  semanticRank: number | null;
  lexicalRank: number | null;
}

const RankedChunkRow = EvidenceChunkRow.extend({
  query: z.number(),
  score: z.coerce.number(),
  semantic_rank: z.coerce.number().nullable(),
  lexical_rank: z.coerce.number().nullable(),
});

/** One search of a batch: the text for full-text search and its query embedding. */
export interface HybridQuery {
  text: string;
  embedding: readonly number[];
}

/**
 * Hybrid retrieval for one student of one school, for several queries in ONE statement (a draft
 * asks one per section): for each query, exact cosine kNN over the student's chunks and Postgres
 * full-text search (the query's words OR-ed), each taking `candidates` rows, fused by reciprocal
 * rank (score = Σ 1 / (rrfK + rank)); ties broken by chunk id. Exact by construction: there is no
 * vector index (migrations/0012_retrieval.sql), the student's rows are found through
 * evidence_chunks_student_idx and sorted by distance. Returns one list per query, in order.
 */
export async function hybridSearchChunks(
  db: Queryable,
  params: {
    schoolId: string; studentId: string; queries: readonly HybridQuery[]; limit: number; candidates: number; rrfK: number;
    /** Only chunks of evidence of these kinds; null or absent: every kind. */
    evidenceKinds?: readonly EvidenceKind[] | null;
  },
): Promise<RankedChunk[][]> {
  const { rows } = await db.query({
    name: "hybrid-search-chunks",
    text: HYBRID_SEARCH_SQL,
    values: [params.schoolId, params.studentId, params.queries.map((q) => toVectorLiteral(q.embedding)), params.queries.map((q) => q.text),
      params.candidates, params.rrfK, params.limit, params.evidenceKinds ?? null],
  });
  const results: RankedChunk[][] = params.queries.map(() => []);
  for (const row of rows) {
    const parsed = RankedChunkRow.parse(row);
    results[parsed.query - 1]!.push({
      chunk: { id: parsed.id, school_id: parsed.school_id, student_id: parsed.student_id, evidence_id: parsed.evidence_id,
        ordinal: parsed.ordinal, page: parsed.page, text: parsed.text },
      score: parsed.score,
      semanticRank: parsed.semantic_rank,
      lexicalRank: parsed.lexical_rank,
    });
  }
  return results;
}

/** The statement behind hybridSearchChunks ($1 school, $2 student, $3 vectors, $4 texts, $5 candidates, $6 rrfK, $7 limit, $8 evidence kinds or null). */
export const HYBRID_SEARCH_SQL = `
  with kinds as (
    select $8::evidence_kind[] is null as every_kind
  ),
  kind_evidence as (
    select id from evidence where school_id = $1 and student_id = $2 and kind = any($8::evidence_kind[])
  ),
  queries as (
    select ordinality::int as query, embedding::vector as embedding,
           replace(plainto_tsquery('english', text)::text, ' & ', ' | ')::tsquery as tsq
    from unnest($3::text[], $4::text[]) with ordinality as q(embedding, text)
  ),
  semantic as (
    select q.query, n.id, row_number() over (partition by q.query order by n.distance, n.id) as rank
    from queries q cross join lateral (
      select id, embedding <=> q.embedding as distance from evidence_chunks
      where school_id = $1 and student_id = $2 and ((select every_kind from kinds) or evidence_id in (select id from kind_evidence))
      order by distance, id limit $5) n
  ),
  lexical as (
    select q.query, m.id, row_number() over (partition by q.query order by m.relevance desc, m.id) as rank
    from queries q cross join lateral (
      select id, ts_rank_cd(tsv, q.tsq) as relevance from evidence_chunks
      where school_id = $1 and student_id = $2 and q.tsq::text <> '' and tsv @@ q.tsq
        and ((select every_kind from kinds) or evidence_id in (select id from kind_evidence))
      order by relevance desc, id limit $5) m
  ),
  fused as (
    select coalesce(s.query, l.query) as query, coalesce(s.id, l.id) as id, s.rank as semantic_rank, l.rank as lexical_rank,
           coalesce(1.0 / ($6 + s.rank), 0) + coalesce(1.0 / ($6 + l.rank), 0) as score
    from semantic s full outer join lexical l on s.query = l.query and s.id = l.id
  ),
  ranked as (
    select fused.*, row_number() over (partition by fused.query order by fused.score desc, fused.id) as position from fused
  )
  select ranked.query, c.id, c.school_id, c.student_id, c.evidence_id, c.ordinal, c.page, c.text,
         ranked.score, ranked.semantic_rank, ranked.lexical_rank
  from ranked join evidence_chunks c on c.id = ranked.id and c.school_id = $1
  where ranked.position <= $7
  order by ranked.query, ranked.position`;

/** pgvector's text form of a vector: "[0.1,0.2,…]". */
export function toVectorLiteral(values: readonly number[]): string {
  return `[${values.join(",")}]`;
}
