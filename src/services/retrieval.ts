import type pg from "pg";
import { hybridSearchChunks, type RankedChunk } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import type { Gemini } from "../gemini/client.ts";
import { pseudonymizerForStudent } from "../privacy/load.ts";
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
}

/**
 * Hybrid retrieval over one student's evidence within one school: embeds the query
 * (RETRIEVAL_QUERY) with the student's identifiers replaced by placeholders, then fuses pgvector
 * kNN and full-text ranks (the full-text search, in Postgres, uses the query as written). Used by
 * `searchEvidence` and by IEP generation.
 */
export async function searchStudentEvidence(deps: RetrievalDeps, params: SearchScope & { query: string }): Promise<RankedChunk[]> {
  const privacy = params.privacy ?? (await pseudonymizerForStudent(deps.pool, params.schoolId, params.studentId));
  const [queryEmbedding] = await deps.gemini.embed([privacy.mask(params.query)], "RETRIEVAL_QUERY", params.signal);
  return searchWithEmbedding(deps.pool, { ...params, queryEmbedding: queryEmbedding! });
}

/**
 * Several searches over one student's evidence with their query embeddings fetched in one batch
 * call (IEP generation asks one query per section).
 */
export async function searchStudentEvidenceMany(deps: RetrievalDeps, params: SearchScope & { queries: string[] }): Promise<RankedChunk[][]> {
  const privacy = params.privacy ?? (await pseudonymizerForStudent(deps.pool, params.schoolId, params.studentId));
  const embeddings = await deps.gemini.embed(params.queries.map((query) => privacy.mask(query)), "RETRIEVAL_QUERY", params.signal);
  const results: RankedChunk[][] = [];
  for (const [i, query] of params.queries.entries()) {
    results.push(await searchWithEmbedding(deps.pool, { ...params, query, queryEmbedding: embeddings[i]! }));
  }
  return results;
}

async function searchWithEmbedding(
  pool: pg.Pool,
  params: { schoolId: string; studentId: string; query: string; queryEmbedding: number[]; limit: number },
): Promise<RankedChunk[]> {
  const candidates = Math.max(40, params.limit * 4);
  return withTransaction(pool, async (client) => {
    await client.query("set local hnsw.iterative_scan = relaxed_order");
    await client.query("set local hnsw.ef_search = 100");
    return hybridSearchChunks(client, {
      schoolId: params.schoolId,
      studentId: params.studentId,
      queryText: params.query,
      queryEmbedding: params.queryEmbedding,
      limit: params.limit,
      candidates,
      rrfK: RRF_K,
    });
  });
}
