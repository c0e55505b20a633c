-- Retrieval is always one student's evidence, searched exactly (src/db/evidence.ts
-- hybridSearchChunks): the student's rows come through evidence_chunks_student_idx and are sorted
-- by true cosine distance and by ts_rank_cd. No query of iepgen searches across students, so the
-- two whole-table indexes only cost (measured in BENCHMARKS.md, "Retrieval"):
--   - the HNSW index was never chosen by the planner for a student's search, gave recall@8 of 0.54
--     (100 chunks) and 0.76 (5,000) when forced, took 390 MB per 100k chunks and slowed ingestion;
--   - the GIN index on tsv made the planner AND a bitmap of every matching chunk of every student
--     (an OR-ed query matches most of the table) with the student's few rows: 135 ms instead of ~1.
drop index if exists evidence_chunks_embedding_hnsw_idx;
drop index if exists evidence_chunks_tsv_idx;

-- Keep a chunk's vector, text and tsvector in its heap row (no TOAST lookups while scanning a
-- student's rows): a 768-d vector is 3 KB, past the 2 KB point where Postgres would move it out.
-- Rows larger than a page still get their text and tsvector compressed or moved out.
alter table evidence_chunks
  alter column embedding set storage plain,
  alter column text set storage main,
  alter column tsv set storage main;
alter table evidence_chunks set (toast_tuple_target = 8160);

-- Rewrite the existing rows in that layout, each student's chunks together. CLUSTER holds an
-- exclusive lock on the table while it runs (seconds per 100k chunks).
cluster evidence_chunks using evidence_chunks_student_idx;
