/**
 * Retrieval (issue 8): 100,000 evidence chunks (768-d unit vectors, generated in SQL) over 1,000
 * students of 4 schools, plus one student with 5,000 chunks. Measures `searchEvidence` over HTTP
 * (a separate API process, a real ADMIN token, the simulator embedding the query) against the bare
 * hybrid SQL statement in the same run; recall@8 of the vector part against a brute-force exact
 * ranking (every distance computed in the bench) for a typical student and the 5,000-chunk one; a draft's
 * retrieval (7 queries in one statement vs 7 statements vs the former 7 transactions with two
 * SET LOCALs); the table's size per 100k chunks. `--hnsw` also builds the HNSW index the project
 * dropped (migrations/0012_retrieval.sql) and measures what it would give, then drops it again.
 * Quick mode: 10,000 chunks over 100 students (the 5,000-chunk student too).
 */
import type pg from "pg";
import { HYBRID_SEARCH_SQL, hybridSearchChunks, toVectorLiteral } from "../src/db/evidence.ts";
import { createGemini, EMBEDDING_DIMENSIONS } from "../src/gemini/client.ts";
import { SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import { createLogger } from "../src/logger.ts";
import { simulatedEmbedding } from "../src/gemini/simulator/server.ts";
import { SECTION_RETRIEVAL_QUERIES } from "../src/iep/prompt.ts";
import { RRF_K } from "../src/services/retrieval.ts";
import { graphqlClient } from "./lib/graphql.ts";
import { atLeast, atMost, round, summarize, type Bench, type Figure } from "./lib/report.ts";
import { createBenchStack, type BenchStack } from "./lib/stack.ts";

const SEARCH = /* GraphQL */ `query BenchRetrievalSearch($s: ID!, $q: String!) { searchEvidence(studentId: $s, query: $q, first: 8) { score chunk { id } } }`;
const QUERIES = [...Object.values(SECTION_RETRIEVAL_QUERIES), "reading fluency words correct per minute", "behaviour on task intervals",
  "math problem solving regrouping", "speech articulation therapy minutes"];
const DRAFT_QUERIES = Object.values(SECTION_RETRIEVAL_QUERIES).slice(0, 7);
const CANDIDATES = 40;

export const run: Bench = async ({ quick }) => {
  const students = quick ? 100 : 1000;
  const stack = await createBenchStack();
  try {
    const schools = await Promise.all([0, 1, 2, 3].map(() => stack.tenant("ADMIN")));
    const seededMs = await seed(stack.pool, schools.map((s) => s.schoolId), students);
    const typical = studentId(7);
    const big = studentId(students);
    const tenant = schools[0]!; // student n belongs to schools[n % 4]: 7 → schools[3]
    const typicalTenant = schools[7 % 4]!;
    const api = await stack.startApi();
    const gql = graphqlClient(api.graphqlUrl, typicalTenant.token);
    const typicalSchool = typicalTenant.schoolId;
    const rotation = Array.from({ length: 40 }, (_, i) => studentId(i * 4 + 3)); // typical students of schools[3]
    const samples = quick ? 100 : 300;

    for (let i = 0; i < 30; i++) await gql(SEARCH, { s: rotation[i % rotation.length], q: QUERIES[i % QUERIES.length] });
    const http = await time(samples, (i) => gql(SEARCH, { s: rotation[i % rotation.length], q: QUERIES[i % QUERIES.length] }));
    const ping = await time(samples, () => gql(`query BenchRetrievalPing { me { id } }`));
    const gemini = createGemini({ apiKey: SIMULATOR_API_KEY, baseUrl: stack.simulator.url, model: "gemini-2.5-flash",
      embeddingModel: "gemini-embedding-001", timeoutMs: 10_000, simulated: true, resilience: { maxRetries: 0 } }, createLogger("error", "stderr"));
    const embedCall = await time(samples, (i) => gemini.embed([QUERIES[i % QUERIES.length]!], "RETRIEVAL_QUERY"));
    gemini.caller.breaker.shutdown();
    const embeddings = QUERIES.map((q) => embed(q));
    const sql = await time(samples, (i) => hybridSearchChunks(stack.pool, {
      schoolId: typicalSchool, studentId: rotation[i % rotation.length]!, limit: 8, candidates: CANDIDATES, rrfK: RRF_K,
      queries: [{ text: QUERIES[i % QUERIES.length]!, embedding: embeddings[i % QUERIES.length]! }],
    }));

    const draftTypical = await draftRetrieval(stack.pool, typicalSchool, rotation, quick ? 10 : 30);
    const draftBig = await draftRetrieval(stack.pool, tenant.schoolId, [big], quick ? 2 : 5);
    const recallTypical = await recall(stack.pool, typicalSchool, typical, 20);
    const recallBig = await recall(stack.pool, tenant.schoolId, big, 10);
    const sizes = await tableSizes(stack.pool);
    const plan = await planOf(stack.pool, typicalSchool, typical);
    const hnsw = process.argv.includes("--hnsw") ? await measureHnsw(stack, { typical: [typicalSchool, typical], big: [tenant.schoolId, big] }) : undefined;

    const figures: Figure[] = [
      atMost("searchEvidence over HTTP p50 (embedding included), 100-chunk student", http.p50, 5, "ms",
        { baseline: { name: "bare hybrid SQL p50", value: sql.p50, unit: "ms" },
          note: `an authenticated HTTP query of me alone: p50 ${ping.p50} ms; the simulator's embed call alone: p50 ${embedCall.p50} ms` }),
      { name: "searchEvidence over HTTP p99", value: http.p99, unit: "ms", baseline: { name: "bare hybrid SQL p99", value: sql.p99, unit: "ms" }, target: "informational", pass: null },
      atLeast("recall@8 of the vector part, 100-chunk student", recallTypical, 0.99, "", { note: "vs brute force (every distance computed in the bench)" }),
      atLeast("recall@8 of the vector part, 5,000-chunk student", recallBig, 0.99, "", { note: "vs brute force (every distance computed in the bench)" }),
      atMost("draft retrieval p50, 7 queries in one statement", draftTypical.batched.p50, draftTypical.separate.p50, "ms",
        { baseline: { name: "7 separate statements p50", value: draftTypical.separate.p50, unit: "ms" }, target: "≤ baseline" }),
      { name: "draft retrieval p50, 5,000-chunk student, one statement", value: draftBig.batched.p50, unit: "ms", target: "informational", pass: null,
        baseline: { name: "7 separate statements p50", value: draftBig.separate.p50, unit: "ms" },
        note: "7 × 5,000 distances and ts_rank_cd calls dominate; one statement saves only round trips" },
      { name: "evidence_chunks size per 100k chunks (table + indexes)", value: sizes.perHundredThousandMb, unit: "MB", target: "informational", pass: null,
        note: hnsw ? `HNSW would add ${hnsw.sizeMbPer100k} MB` : "no vector index (migrations/0012_retrieval.sql)" },
    ];
    return {
      bench: "retrieval",
      figures,
      raw: { students, chunks: sizes.chunks, seededMs, httpMs: http, bareSqlMs: sql, viewerQueryHttpMs: ping, embedCallMs: embedCall, draftTypicalMs: draftTypical, draftBigMs: draftBig,
        recallTypical, recallBig, sizes, plan, hnsw: hnsw ?? "not measured (run with --hnsw)" },
    };
  } finally {
    await stack.close();
  }
};

/** The simulator's embedding of a text, as the API would get it. */
function embed(text: string): number[] {
  return simulatedEmbedding(text, EMBEDDING_DIMENSIONS);
}

function studentId(n: number): string {
  return `00000000-0000-4000-9000-${String(n).padStart(12, "0")}`;
}

/**
 * Students 0..n-1 get 100 chunks each (10 documents of 10), student n gets 5,000; student k is in
 * schools[k % 4]. A text is one of 4,096 of 96 words drawn from a skewed vocabulary; a vector is
 * the normalised sum of two random unit vectors (a pair no other chunk has) and one per student.
 */
export async function seed(pool: pg.Pool, schools: string[], students: number): Promise<number> {
  const started = performance.now();
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("select setseed(0.20261127)");
    await client.query(`insert into students (id, school_id, first_name, last_name, date_of_birth, grade)
      select ('00000000-0000-4000-9000-' || lpad(n::text, 12, '0'))::uuid, ($1::uuid[])[1 + n % 4], 'Student', 'Number ' || n, date '2012-01-01' + n % 1000, '5'
      from generate_series(0, $2::int) n`, [schools, students]);
    await client.query(`create temp table words on commit drop as select string_to_array($1, ' ') as w`, [VOCABULARY]);
    await client.query(`create temp table texts on commit drop as
      select i, (select string_agg(words.w[1 + floor(power(random(), 2) * array_length(words.w, 1))::int] || case when j % 12 = 0 then '.' else '' end, ' ')
                 from generate_series(1, 96) j, words where i >= 0) as text
      from generate_series(0, 4095) i`);
    await client.query(`create temp table vectors on commit drop as
      select i, l2_normalize((select array_agg(random() - 0.5) from generate_series(1, 768) where i >= 0)::vector(768)) as v from generate_series(0, 1023) i`);
    await client.query(`insert into evidence (id, school_id, student_id, kind, title, body, status, chunk_count)
      select ('00000000-0000-4000-a000-' || lpad(d::text, 12, '0'))::uuid, ($1::uuid[])[1 + (case when d < $2::int * 10 then d / 10 else $2::int end) % 4],
             ('00000000-0000-4000-9000-' || lpad((case when d < $2::int * 10 then d / 10 else $2::int end)::text, 12, '0'))::uuid,
             'PROGRESS_NOTE', 'Note ' || d, 'Generated note ' || d, 'READY', 10
      from generate_series(0, $2::int * 10 + 499) d`, [schools, students]);
    await client.query(`insert into evidence_chunks (school_id, student_id, evidence_id, ordinal, text, embedding)
      select e.school_id, e.student_id, e.id, n % 10, t.text, l2_normalize(a.v + b.v + c.v)
      from generate_series(0::bigint, $1::bigint * 100 + 4999) n
      join evidence e on e.id = ('00000000-0000-4000-a000-' || lpad((n / 10)::text, 12, '0'))::uuid
      join vectors a on a.i = n % 1024
      join vectors b on b.i = (n / 1024 * 37 + n * 7919) % 1024
      join vectors c on c.i = (least(n / 100, $1::bigint) * 31) % 1024
      join texts t on t.i = (n * 7919) % 4096`, [students]);
    await client.query("commit");
    await client.query("analyze evidence_chunks");
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
  return Math.round(performance.now() - started);
}

const VOCABULARY = ("student reading fluency words correct per minute math addition regrouping behaviour task intervals speech " +
  "articulation occupational therapy fine motor handwriting goal baseline progress monitoring assessment accommodations " +
  "extended time inclusion general education classroom peers transition vocational independent living guardianship decision " +
  "making services minutes weekly probe benchmark score standard percentile comprehension vocabulary phonics decoding spelling " +
  "writing sentences paragraph attention social skills communication sensory breaks visual timer manipulatives number line " +
  "fractions multiplication division problem solving teacher observation parent input evaluation eligibility disability support " +
  "modification state testing alternate postsecondary interests employment community advocacy age majority rights transfer data " +
  "collection report card frequency quarterly measurable annual present levels academic achievement functional performance").replace(/\s+/g, " ");

async function time(samples: number, work: (i: number) => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await work(i);
    ms.push(performance.now() - started);
  }
  return summarize(ms);
}

/** A draft's 7 searches: one statement, 7 statements, and 7 transactions with two SET LOCALs each (the code before). */
async function draftRetrieval(pool: pg.Pool, schoolId: string, studentIds: string[], runs: number) {
  const queries = DRAFT_QUERIES.map((text) => ({ text, embedding: embed(text) }));
  const params = (i: number) => ({ schoolId, studentId: studentIds[i % studentIds.length]!, limit: 6, candidates: CANDIDATES, rrfK: RRF_K });
  const batched = await time(runs, (i) => hybridSearchChunks(pool, { ...params(i), queries }));
  const separate = await time(runs, async (i) => {
    for (const query of queries) await hybridSearchChunks(pool, { ...params(i), queries: [query] });
  });
  const transactions = await time(runs, async (i) => {
    const client = await pool.connect();
    try {
      for (const query of queries) {
        await client.query("begin");
        await client.query("set local hnsw.iterative_scan = relaxed_order");
        await client.query("set local hnsw.ef_search = 100");
        await hybridSearchChunks(client, { ...params(i), queries: [query] });
        await client.query("commit");
      }
    } finally {
      client.release();
    }
  });
  return { batched, separate, transactions };
}

/**
 * Mean recall@8 of the production vector ranking (the hybrid statement with an empty text, so only
 * its vector part ranks) against brute force: every one of the student's vectors read once and
 * every cosine distance computed here, in double precision.
 */
async function recall(pool: pg.Pool, schoolId: string, studentId: string, queries: number, approximate?: string[]): Promise<number> {
  const { rows } = await pool.query("select id, embedding::text as v from evidence_chunks where student_id = $1", [studentId]);
  const chunks = rows.map((row) => ({ id: row.id as string, v: JSON.parse(row.v) as number[] }));
  const hits: number[] = [];
  for (let i = 0; i < queries; i++) {
    const embedding = embed(`${QUERIES[i % QUERIES.length]} ${i}`).map((x, k) => x + Math.sin(i * 31 + k) * 0.05);
    const client = await pool.connect();
    try {
      await client.query("begin");
      const found = approximate ? await approximateTop(client, approximate, studentId, embedding) : await productionTop(client, schoolId, studentId, embedding);
      await client.query("rollback");
      const truth = new Set(exactTop(chunks, embedding, 8));
      hits.push(found.filter((id) => truth.has(id)).length / Math.max(1, truth.size));
    } finally {
      client.release();
    }
  }
  return round(hits.reduce((a, b) => a + b, 0) / hits.length, 3);
}

async function productionTop(client: pg.PoolClient, schoolId: string, studentId: string, embedding: number[]): Promise<string[]> {
  const [found] = await hybridSearchChunks(client, { schoolId, studentId, limit: 8, candidates: CANDIDATES, rrfK: RRF_K, queries: [{ text: "", embedding }] });
  return found!.map((match) => match.chunk.id);
}

/** The former kNN shape (ORDER BY distance LIMIT, which an HNSW index can serve) after `setup`. */
async function approximateTop(client: pg.PoolClient, setup: string[], studentId: string, embedding: number[]): Promise<string[]> {
  for (const statement of setup) await client.query(statement);
  const { rows } = await client.query("select id from evidence_chunks where student_id = $1 order by embedding <=> $2::vector limit 8",
    [studentId, toVectorLiteral(embedding)]);
  return rows.map((row) => row.id as string);
}

/** Whether the former kNN shape, after `setup`, is planned with `index`. */
async function usesIndex(pool: pg.Pool, setup: string[], studentId: string, index: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    for (const statement of setup) await client.query(statement);
    const { rows } = await client.query("explain select id from evidence_chunks where student_id = $1 order by embedding <=> $2::vector limit 8",
      [studentId, toVectorLiteral(embed("reading"))]);
    return rows.some((row) => String(row["QUERY PLAN"]).includes(index));
  } finally {
    await client.query("rollback");
    client.release();
  }
}

function exactTop(chunks: { id: string; v: number[] }[], query: number[], k: number): string[] {
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  const queryNorm = norm(query);
  const distance = (v: number[]) => 1 - v.reduce((sum, x, i) => sum + x * query[i]!, 0) / (norm(v) * queryNorm);
  return chunks.map((c) => ({ id: c.id, d: distance(c.v) }))
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1)).slice(0, k).map((c) => c.id);
}

/** How Postgres runs the hybrid statement for one student: the scans it uses on evidence_chunks. */
async function planOf(pool: pg.Pool, schoolId: string, studentId: string) {
  const text = "present levels academic achievement";
  const { rows } = await pool.query(`explain (format json) ${HYBRID_SEARCH_SQL}`,
    [schoolId, studentId, [toVectorLiteral(embed(text))], [text], CANDIDATES, RRF_K, 8, null]);
  const scans: string[] = [];
  const walk = (node: Record<string, any>) => {
    if (node["Index Name"]) scans.push(`${node["Node Type"]} (${node["Index Name"]})`);
    else if (node["Relation Name"] === "evidence_chunks") scans.push(node["Node Type"]);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(rows[0]["QUERY PLAN"][0].Plan);
  return scans;
}

async function tableSizes(pool: pg.Pool) {
  const { rows } = await pool.query(`select (select count(*)::int from evidence_chunks) as chunks,
      pg_total_relation_size('evidence_chunks') as total, pg_relation_size('evidence_chunks') as heap,
      (select json_object_agg(indexrelid::regclass::text, pg_relation_size(indexrelid)) from pg_index where indrelid = 'evidence_chunks'::regclass) as indexes`);
  const { chunks, total, heap, indexes } = rows[0] as { chunks: number; total: string; heap: string; indexes: Record<string, number> };
  const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
  return { chunks, totalMb: mb(Number(total)), heapMb: mb(Number(heap)), indexesMb: Object.fromEntries(Object.entries(indexes).map(([k, v]) => [k, mb(v)])),
    perHundredThousandMb: mb((Number(total) / chunks) * 100_000) };
}

/**
 * What the dropped HNSW index would give: build time and size, and recall@8 and latency when a
 * student's search is made to use it (the relaxed iterative scan the code used before; the planner
 * never chose it by itself, so the student filter is hidden from the btree index).
 */
async function measureHnsw(stack: BenchStack, students: { typical: [string, string]; big: [string, string] }) {
  const pool = stack.pool;
  const started = performance.now();
  const client = await pool.connect();
  try {
    await client.query("set maintenance_work_mem = '1GB'");
    await client.query("create index bench_hnsw on evidence_chunks using hnsw (embedding vector_cosine_ops)");
  } finally {
    client.release();
  }
  const buildMs = Math.round(performance.now() - started);
  const { rows } = await pool.query("select pg_relation_size('bench_hnsw') as size, (select count(*) from evidence_chunks) as chunks");
  const sizeMbPer100k = round((Number(rows[0].size) / Number(rows[0].chunks)) * 100_000 / 1024 / 1024, 1);
  const forced = ["set local hnsw.iterative_scan = relaxed_order", "set local hnsw.ef_search = 100", "set local enable_bitmapscan = off",
    "set local enable_seqscan = off", "drop index evidence_chunks_student_idx"];
  const result = {
    buildMs, sizeMbPer100k,
    chosenByPlanner: await usesIndex(pool, forced.slice(0, 2), students.typical[1], "bench_hnsw"),
    usedWhenForced: await usesIndex(pool, forced, students.typical[1], "bench_hnsw"),
    recallTypical: await recall(pool, ...students.typical, 20, forced),
    recallBig: await recall(pool, ...students.big, 10, forced),
  };
  await pool.query("drop index bench_hnsw");
  return result;
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
