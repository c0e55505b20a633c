/**
 * Enqueue: `generateIep(async: true)` over HTTP against an API child process (no worker runs, so
 * nothing is consumed), sequential and 8 clients, next to raw `graphile_worker.add_job` over `pg`
 * (one connection per client) in the same run. Targets: p50 ≤ 3 ms and p99 ≤ 10 ms sequential,
 * throughput ≥ 0.6 × raw both ways (8-client latencies are reported beside raw add_job's, untargeted).
 * SQL statements per enqueue come from the API's `iepgen_db_statements_total` counter when it exists.
 */
import { enqueue, graphqlClient, seedStudents } from "./lib/graphql.ts";
import { rawAddJobs, scrapeCounter, timedLoad, type LoadResult } from "./lib/load.ts";
import { atMost, ratioAtLeast, round, type Bench, type Figure } from "./lib/report.ts";
import { createBenchStack } from "./lib/stack.ts";

const CLIENTS = 8;

export const run: Bench = async ({ quick }) => {
  const sequentialCount = quick ? 100 : 500;
  const concurrentCount = quick ? 200 : 1000;
  const stack = await createBenchStack();
  try {
    const tenant = await stack.tenant();
    const [studentId] = await seedStudents(stack.pool, tenant, 1, { ingested: false });
    const api = await stack.startApi({ DATABASE_POOL_MAX: "10" });
    const gql = graphqlClient(api.graphqlUrl, tenant.token);
    const request = () => enqueue(gql, studentId!);
    await timedLoad(30, 1, request);

    const rawSequential = await rawAddJobs(stack.databaseUrl, sequentialCount, 1);
    const statementsBefore = await scrapeCounter(`${api.url}/metrics`, "iepgen_db_statements_total", 'pool="api"');
    const sequential = await timedLoad(sequentialCount, 1, request);
    const statementsAfter = await scrapeCounter(`${api.url}/metrics`, "iepgen_db_statements_total", 'pool="api"');
    const rawConcurrent = await rawAddJobs(stack.databaseUrl, concurrentCount, CLIENTS);
    const concurrent = await timedLoad(concurrentCount, CLIENTS, request);
    const statementsPerEnqueue = statementsBefore === undefined || statementsAfter === undefined
      ? null : round((statementsAfter - statementsBefore) / sequentialCount, 1);

    return {
      bench: "enqueue",
      figures: figures(sequential, rawSequential, concurrent, rawConcurrent, statementsPerEnqueue),
      raw: { sequentialCount, concurrentCount, clients: CLIENTS, sequential, rawSequential, concurrent, rawConcurrent, statementsPerEnqueue },
    };
  } finally {
    await stack.close();
  }
};

function figures(sequential: LoadResult, rawSequential: LoadResult, concurrent: LoadResult, rawConcurrent: LoadResult, statements: number | null): Figure[] {
  const rawP50 = { name: "add_job p50", value: rawSequential.latency.p50, unit: "ms" };
  const rawP99 = { name: "add_job p99", value: rawSequential.latency.p99, unit: "ms" };
  const list: Figure[] = [
    atMost("enqueue p50, sequential", sequential.latency.p50, 3, "ms", { baseline: rawP50 }),
    atMost("enqueue p99, sequential", sequential.latency.p99, 10, "ms", { baseline: rawP99 }),
    ratioAtLeast("enqueue req/s, sequential", sequential.perSecond, "req/s", { name: "add_job/s", value: rawSequential.perSecond }, 0.6),
    informational(`enqueue p50, ${CLIENTS} clients`, concurrent.latency.p50, "ms", { name: "add_job p50", value: rawConcurrent.latency.p50, unit: "ms" }),
    informational(`enqueue p99, ${CLIENTS} clients`, concurrent.latency.p99, "ms", { name: "add_job p99", value: rawConcurrent.latency.p99, unit: "ms" }),
    ratioAtLeast(`enqueue req/s, ${CLIENTS} clients`, concurrent.perSecond, "req/s", { name: "add_job/s", value: rawConcurrent.perSecond }, 0.6),
  ];
  list.push(statements === null
    ? { name: "SQL statements per enqueue", value: Number.NaN, unit: "statements", target: "informational", pass: null, note: "iepgen_db_statements_total not on /metrics" }
    : informational("SQL statements per enqueue", statements, "statements", { name: "add_job", value: 1, unit: "statements" }));
  return list;
}

/** A figure without a target of its own (issue 8 sets none for it), shown next to its baseline. */
function informational(name: string, value: number, unit: string, baseline: Figure["baseline"]): Figure {
  return { name, value: round(value), unit, baseline, target: "informational", pass: null };
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
