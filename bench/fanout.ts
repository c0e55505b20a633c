/**
 * Fan-out: 2,000 concurrent graphql-ws subscribers (200 with --quick) on ONE API child process,
 * spread over 20 generations (4 quick) that a worker child runs, 10 at a time, against the
 * simulator. Delivery latency of each event = its arrival at a subscriber (in this process) − its
 * NOTIFY's arrival at a stamper child that only LISTENs (the moment the API process could learn of
 * it), for stored events and, separately, for streamed text deltas. Also the API's peak RSS
 * (/proc/<pid>/status) and Postgres reads of generation_events (pg_stat_user_tables idx_scan +
 * seq_scan, from before the API process starts to after it stops) per stored event: one shared
 * feed per generation reads each event at most once, plus its opening read and a check every 10 s.
 * Baseline in the same run, after the iepgen phase: a bare `ws` relay child that LISTENs on the same
 * channel and sends each NOTIFY payload as is to as many plain `ws` clients, on as many generations
 * run by the same worker the same way. Targets: delivery p99 ≤ 50 ms, API RSS ≤ 400 MB.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { EVENTS_CHANNEL } from "../src/events/bus.ts";
import { enqueue, EVENTS, graphqlClient, seedStudents, wsClient } from "./lib/graphql.ts";
import { atMost, round, summarize, type Bench } from "./lib/report.ts";
import { createBenchStack, ROOT, waitUntil, type Child } from "./lib/stack.ts";

/** Simulated Gemini latency per call: a generation takes about a second, 10 of them at once. */
const SIMULATOR_LATENCY_MS = 100;
const CONNECT_CONCURRENCY = 50;

/** When each NOTIFY (stored event or delta) reached this process, by delivery key. */
type NotifyTimes = Map<string, number>;
const storedKey = (generationId: string, seq: number) => `${generationId}/${seq}`;
const deltaKey = (generationId: string, seq: number, text: string) => `${generationId}/${seq}/${text}`;

interface Deliveries {
  stored: number[];
  deltas: number[];
  /** Subscribers that saw their generation's terminal event. */
  completed: number;
}

const phase = (name: string) => process.env.BENCH_TRACE && console.error(`[fanout] ${name} at ${Math.round(performance.now())} ms`);

export const run: Bench = async ({ quick }) => {
  const subscribers = quick ? 200 : 2000;
  const generations = quick ? 4 : 20;
  const stack = await createBenchStack({ simulator: { latencyMs: SIMULATOR_LATENCY_MS } });
  let stamper: Child | undefined;
  try {
    const tenant = await stack.tenant();
    phase("stack");
    const seeding = await stack.startWorker();
    const students = await seedStudents(stack.pool, tenant, generations, { ingested: true });
    await seeding.stop();
    phase("seeded");
    const notified: NotifyTimes = new Map();
    stamper = await startStamper(stack.databaseUrl, notified);
    const readsBefore = await eventReads(stack.pool);

    const api = await stack.startApi(process.env.FANOUT_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.FANOUT_PROFILE}` } : {});
    phase("api");
    const gql = graphqlClient(api.graphqlUrl, tenant.token);
    const ids = await Promise.all(students.map((id) => enqueue(gql, id)));
    const clients = await connectAll(subscribers, () => wsClient(api.wsUrl, tenant.token));
    phase("clients connected");
    const rss: number[] = [];
    const sampler = setInterval(() => void rssMb(api.child.pid!).then((mb) => rss.push(mb), () => undefined), 100);
    const runWorker = async () => {
      // At most 10 at once: each job slot holds a Postgres connection, and the server is shared.
      const worker = await stack.startWorker({ WORKER_CONCURRENCY: String(Math.min(generations, 10)) });
      return () => worker.stop();
    };
    const iepgen = await deliver(ids, subscribers, notified, runWorker,
      (i, generationId, sink) => clients[i]!.subscribe({ query: EVENTS, variables: { id: generationId } }, sink));
    clearInterval(sampler);
    phase("delivered");
    await Promise.all(clients.map((client) => client.dispose()));
    const relayIds = await Promise.all(students.map((id) => enqueue(gql, id)));
    const relay = await measureRelay(stack.databaseUrl, relayIds, subscribers, notified, runWorker);
    phase("relay done");
    await api.stop();
    const reads = (await settledEventReads(stack.pool)) - readsBefore;
    const storedEvents = await countStoredEvents(stack.pool, ids);

    const stored = summarize(iepgen.stored);
    const deltas = summarize(iepgen.deltas);
    const raw = summarize(relay.stored);
    const rawDeltas = summarize(relay.deltas);
    const rssPeak = Math.max(...rss);
    const readBudget = storedEvents + generations * (1 + Math.ceil(iepgen.seconds / 10));
    return {
      bench: "fanout",
      figures: [
        atMost(`stored event delivery p99, ${subscribers} graphql-ws subscribers`, stored.p99, 50, "ms",
          { baseline: { name: "bare ws relay p99", value: raw.p99, unit: "ms" } }),
        atMost("text delta delivery p99", deltas.p99, 50, "ms", { baseline: { name: "bare ws relay p99", value: rawDeltas.p99, unit: "ms" } }),
        atMost("API RSS, peak", rssPeak, 400, "MB", { baseline: { name: "bare ws relay RSS", value: relay.rssMb, unit: "MB" } }),
        { name: "Postgres reads of generation_events per stored event", value: round(reads / storedEvents), unit: "reads",
          target: "≤ 1 per event + per feed 1 opening read and 1 per 10 s", pass: reads <= readBudget,
          baseline: { name: "deliveries per stored event (reads per event before)", value: round(subscribers / generations), unit: "reads" } },
      ],
      raw: {
        subscribers, generations, simulatorLatencyMs: SIMULATOR_LATENCY_MS, liveSeconds: iepgen.seconds,
        storedEvents, storedDeliveries: iepgen.stored.length, deltaDeliveries: iepgen.deltas.length, completedSubscribers: iepgen.completed,
        generationEventReads: reads, readBudget, storedDeliveryMs: stored, deltaDeliveryMs: deltas, apiRssMb: { peak: rssPeak, samples: rss.length },
        relay: { storedDeliveryMs: raw, deltaDeliveryMs: rawDeltas, completedClients: relay.completed, rssMb: relay.rssMb },
      },
    };
  } finally {
    await stamper?.stop();
    await stack.close();
  }
};

/** Epoch milliseconds, comparable across this machine's processes. */
const now = () => performance.timeOrigin + performance.now();

const STAMPER_SOURCE = `
import pg from "pg";
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
await client.query("listen ${EVENTS_CHANNEL}");
client.on("notification", (message) => process.stdout.write((performance.timeOrigin + performance.now()) + " " + message.payload + "\\n"));
console.log("stamper ready");
process.on("SIGTERM", () => process.exit(0));
`;

/**
 * A child that only LISTENs and stamps each NOTIFY as it arrives: the reference time of a
 * delivery, taken in a process with nothing else to do (this one is busy with thousands of clients).
 */
async function startStamper(databaseUrl: string, notified: NotifyTimes): Promise<Child> {
  let pending = "";
  return startScript(STAMPER_SOURCE, databaseUrl, /stamper ready/, (chunk) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const space = line.indexOf(" ");
      const event = space > 0 ? JSON.parse(line.slice(space + 1)) : {};
      const at = Number(line.slice(0, space));
      if (event.type === "generation.event") notified.set(storedKey(event.generationId, event.seq), at);
      if (event.type === "generation.delta") notified.set(deltaKey(event.generationId, event.seq, event.text), at);
    }
  });
}

type Sink = { next(value: { data?: any }): void; error(error: unknown): void; complete(): void };

/**
 * Opens `subscribers` subscriptions (subscriber i on generation i mod n), waits until each has its
 * first event, then lets events flow (`start`) and records the delivery latency of every live event
 * until every subscriber has seen its terminal event.
 */
async function deliver(
  ids: string[], subscribers: number, notified: NotifyTimes, start: () => Promise<() => Promise<unknown>>,
  subscribe: (i: number, generationId: string, sink: Sink) => void,
): Promise<Deliveries & { seconds: number }> {
  const result: Deliveries = { stored: [], deltas: [], completed: 0 };
  const arrivals: { key: string; delta: boolean; at: number }[] = [];
  let ready = 0;
  let live = false;
  for (let i = 0; i < subscribers; i++) {
    const generationId = ids[i % ids.length]!;
    subscribe(i, generationId, {
      next: ({ data }) => {
        const at = now();
        const event = data?.generationEvents ?? data;
        if (!live) return void (event.seq === 1 && (ready += 1));
        const key = event.textDelta ? deltaKey(generationId, event.seq, event.textDelta) : storedKey(generationId, event.seq);
        arrivals.push({ key, delta: Boolean(event.textDelta), at });
        if (TERMINAL.includes(event.status) && !event.textDelta) result.completed += 1;
      },
      error: (error) => console.error("subscription error", error),
      complete: () => undefined,
    });
  }
  await waitUntil(async () => ready >= subscribers, 60_000, "every subscriber's first event");
  live = true;
  phase("subscribed");
  const started = performance.now();
  const stop = await start();
  try {
    // Generous: on a loaded shared machine 20 drafts at once can take minutes.
    await waitUntil(async () => result.completed >= subscribers, 240_000, "every subscriber's terminal event").catch((error: Error) => {
      throw new Error(`${error.message} (${result.completed} of ${subscribers} had it)`);
    });
    const seconds = round((performance.now() - started) / 1000);
    // Matched afterwards: a relayed message may be handled here before this process's own NOTIFY.
    for (const { key, delta, at } of arrivals) {
      const sent = notified.get(key);
      if (sent !== undefined) (delta ? result.deltas : result.stored).push(at - sent);
    }
    return { ...result, seconds };
  } finally {
    await stop();
  }
}

const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];

/** Opens `count` clients, CONNECT_CONCURRENCY at a time, each connected before it is returned. */
async function connectAll(count: number, open: () => Client): Promise<Client[]> {
  const clients: Client[] = [];
  for (let start = 0; start < count; start += CONNECT_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONNECT_CONCURRENCY, count - start) }, open);
    await Promise.all(batch.map((client) => new Promise<void>((resolve, reject) => {
      client.on("connected", () => resolve());
      client.on("error", reject);
    })));
    clients.push(...batch);
  }
  return clients;
}

/**
 * The raw baseline: a child that LISTENs and sends each NOTIFY payload as is to the plain `ws`
 * clients of its generation (no GraphQL, no auth, no reads), with as many clients on as many
 * generations, run by the same worker the same way.
 */
async function measureRelay(databaseUrl: string, ids: string[], subscribers: number, notified: NotifyTimes, start: () => Promise<() => Promise<unknown>>) {
  const relay = await startRelay(databaseUrl);
  const sockets: WebSocket[] = [];
  try {
    const rss: number[] = [];
    const sampler = setInterval(() => void rssMb(relay.child.pid!).then((mb) => rss.push(mb), () => undefined), 100);
    const result = await deliver(ids, subscribers, notified, start, (_i, generationId, sink) => {
      const socket = new WebSocket(`${relay.url}?id=${generationId}`);
      sockets.push(socket);
      socket.on("message", (data) => {
        const event = JSON.parse(data.toString());
        sink.next({ data: event.type === "generation.delta" ? { seq: event.seq, textDelta: event.text, status: "RUNNING" } : { seq: event.seq, status: event.event?.status } });
      });
      socket.on("open", () => sink.next({ data: { seq: 1 } }));
    });
    clearInterval(sampler);
    return { ...result, rssMb: Math.max(...rss) };
  } finally {
    for (const socket of sockets) socket.terminate();
    await relay.stop();
  }
}

const RELAY_SOURCE = `
import pg from "pg";
import { WebSocketServer } from "ws";
const byGeneration = new Map();
const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await new Promise((resolve) => server.once("listening", resolve));
server.on("connection", (socket, request) => {
  const id = new URL(request.url, "http://relay").searchParams.get("id");
  if (!byGeneration.has(id)) byGeneration.set(id, new Set());
  byGeneration.get(id).add(socket);
  socket.on("close", () => byGeneration.get(id).delete(socket));
});
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
await client.query("listen ${EVENTS_CHANNEL}");
client.on("notification", (message) => {
  for (const socket of byGeneration.get(JSON.parse(message.payload).generationId) ?? []) socket.send(message.payload);
});
console.log("relay ws://127.0.0.1:" + server.address().port);
process.on("SIGTERM", () => process.exit(0));
`;

async function startRelay(databaseUrl: string): Promise<Child & { url: string }> {
  const relay = await startScript(RELAY_SOURCE, databaseUrl, /relay (ws:\/\/\S+)/);
  return { ...relay, url: /relay (ws:\/\/\S+)/.exec(relay.output())![1]! };
}

/** `node -e source` (ESM, in the project root for its packages) with DATABASE_URL, ready once `ready` matches its output. */
async function startScript(source: string, databaseUrl: string, ready: RegExp, onStdout: (chunk: string) => void = () => undefined): Promise<Child> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? "", DATABASE_URL: databaseUrl }, stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let started = false;
  child.stdout.on("data", (chunk: Buffer) => (started ? onStdout(chunk.toString()) : (output += chunk.toString())));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`script exited early:\n${output}`);
    return (started = ready.test(output));
  }, 10_000, `a child printing ${ready}`);
  return {
    child, output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024, 1);
}

async function eventReads(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query(`select pg_stat_clear_snapshot(), (coalesce(idx_scan, 0) + coalesce(seq_scan, 0))::int as reads
    from pg_stat_user_tables where relname = 'generation_events'`);
  return rows[0]?.reads ?? 0;
}

/** Reads once the stopped API's backends have flushed their statistics (the value stops changing). */
async function settledEventReads(pool: pg.Pool): Promise<number> {
  let previous = await eventReads(pool);
  for (let stable = 0; stable < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const current = await eventReads(pool);
    stable = current === previous ? stable + 1 : 0;
    previous = current;
  }
  return previous;
}

async function countStoredEvents(pool: pg.Pool, ids: string[]): Promise<number> {
  const { rows } = await pool.query("select count(*)::int as n from generation_events where generation_id = any($1::uuid[])", [ids]);
  return rows[0].n;
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
