import type pg from "pg";
import { hybridSearchChunks, type EvidenceKind, type RankedChunk } from "../db/evidence.ts";
import type { Student } from "../db/students.ts";
import type { Gemini } from "../gemini/client.ts";
import { pseudonymizerFor, pseudonymizerForStudent } from "../privacy/load.ts";
import type { Pseudonymizer } from "../privacy/pseudonymize.ts";

/** Reciprocal-rank-fusion constant (the usual 60 from Cormack et al.). */
export const RRF_K = 60;
export const MAX_SEARCH_RESULTS = 50;

export interface RetrievalDeps {
  pool: pg.Pool;
  gemini: Gemini;
}

interface SearchScope {
  schoolId: string;
  studentId: string;
  limit: number;
  signal?: AbortSignal;
  /** Masks the queries before they are embedded; by default one is built for the student. */
  privacy?: Pseudonymizer;
  /** The student's row when the caller has it already (saves reading it again for the default `privacy`). */
  student?: Student;
  /** Only evidence of these kinds (IEP generation's `evidenceKinds`); null or absent: every kind. */
  evidenceKinds?: readonly EvidenceKind[] | null;
}

/**
 * Hybrid retrieval over one student's evidence within one school: embeds the query
 * (RETRIEVAL_QUERY) with the student's identifiers replaced by placeholders, then fuses exact
 * pgvector kNN and full-text ranks in one SQL statement (the full-text search, in Postgres, uses
 * the query as written). Used by `searchEvidence`.
 */
export async function searchStudentEvidence(deps: RetrievalDeps, params: SearchScope & { query: string }): Promise<RankedChunk[]> {
  const [matches] = await searchStudentEvidenceMany(deps, { ...params, queries: [params.query] });
  return matches!;
}

/**
 * Several searches over one student's evidence (IEP generation asks one query per section): the
 * query embeddings come from one batch embed call, and every search runs in ONE SQL statement
 * (one round trip, no transaction). Results are those of separate `searchStudentEvidence` calls,
 * in the order of `queries`.
 */
export async function searchStudentEvidenceMany(deps: RetrievalDeps, params: SearchScope & { queries: string[] }): Promise<RankedChunk[][]> {
  if (params.queries.length === 0) return [];
  const privacy = params.privacy ?? (await defaultPrivacy(deps.pool, params));
  const embeddings = await deps.gemini.embed(params.queries.map((query) => privacy.mask(query)), "RETRIEVAL_QUERY", params.signal);
  return hybridSearchChunks(deps.pool, {
    schoolId: params.schoolId,
    studentId: params.studentId,
    queries: params.queries.map((text, i) => ({ text, embedding: embeddings[i]! })),
    limit: params.limit,
    candidates: Math.max(40, params.limit * 4),
    rrfK: RRF_K,
    evidenceKinds: params.evidenceKinds ?? null,
  });
}

function defaultPrivacy(pool: pg.Pool, params: SearchScope): Promise<Pseudonymizer> {
  return params.student ? pseudonymizerFor(pool, params.student) : pseudonymizerForStudent(pool, params.schoolId, params.studentId);
}
