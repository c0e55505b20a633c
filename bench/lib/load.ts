/** Timed request loops: sequential and N-way concurrent, with per-request latencies in ms. */
import pg from "pg";
import { summarize, type Summary } from "./report.ts";

export interface LoadResult {
  latency: Summary;
  perSecond: number;
}

/** Runs `request` `total` times over `clients` concurrent loops; latency of each call and overall rate. */
export async function timedLoad(total: number, clients: number, request: (client: number) => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    while (next < total) {
      next += 1;
      const at = performance.now();
      await request(client);
      latencies.push(performance.now() - at);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { latency: summarize(latencies), perSecond: Math.round(total / seconds) };
}

/** Raw `graphile_worker.add_job` over `pg`, one connection per client (the baseline of an enqueue). */
export async function rawAddJobs(databaseUrl: string, total: number, clients: number): Promise<LoadResult> {
  const connections = await Promise.all(Array.from({ length: clients }, async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return client;
  }));
  try {
    const add = (i: number) => connections[i]!.query("select graphile_worker.add_job('noop', '{}')");
    await timedLoad(Math.min(50, total), clients, add);
    return await timedLoad(total, clients, add);
  } finally {
    await Promise.all(connections.map((client) => client.end()));
    const cleanup = new pg.Client({ connectionString: databaseUrl });
    await cleanup.connect();
    await cleanup.query("select graphile_worker.complete_jobs(array_agg(id)) from graphile_worker.jobs where task_identifier = 'noop'");
    await cleanup.end();
  }
}

/** Sum of a Prometheus counter's samples whose labels contain `labelMatch` (undefined when absent). */
export async function scrapeCounter(metricsUrl: string, name: string, labelMatch = ""): Promise<number | undefined> {
  const text = await (await fetch(metricsUrl)).text();
  const samples = text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
  const matching = samples.filter((line) => line.includes(labelMatch));
  if (matching.length === 0) return undefined;
  return matching.reduce((sum, line) => sum + Number(line.trim().split(/\s+/).at(-1)), 0);
}
