import type pg from "pg";
import { hybridSearchChunks, type RankedChunk } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import type { Gemini } from "../gemini/client.ts";

/** Reciprocal-rank-fusion constant (the usual 60 from Cormack et al.). */
export const RRF_K = 60;
export const MAX_SEARCH_RESULTS = 50;

export interface RetrievalDeps {
  pool: pg.Pool;
  gemini: Gemini;
}

/**
 * Hybrid retrieval over one student's evidence within one school: embeds the query
 * (RETRIEVAL_QUERY), then fuses pgvector kNN and full-text ranks. Used by `searchEvidence` and by
 * IEP generation.
 */
export async function searchStudentEvidence(
  deps: RetrievalDeps,
  params: { schoolId: string; studentId: string; query: string; limit: number; signal?: AbortSignal },
): Promise<RankedChunk[]> {
  const [queryEmbedding] = await deps.gemini.embed([params.query], "RETRIEVAL_QUERY", params.signal);
  const candidates = Math.max(40, params.limit * 4);
  return withTransaction(deps.pool, async (client) => {
    await client.query("set local hnsw.iterative_scan = relaxed_order");
    await client.query("set local hnsw.ef_search = 100");
    return hybridSearchChunks(client, {
      schoolId: params.schoolId,
      studentId: params.studentId,
      queryText: params.query,
      queryEmbedding: queryEmbedding!,
      limit: params.limit,
      candidates,
      rrfK: RRF_K,
    });
  });
}
