/**
 * Raw baselines for the latency benches, measured with the tools iepgen is built on and nothing
 * else: NOTIFY → LISTEN over two `pg` connections; the same relayed over a bare `ws` socket; and
 * graphile-worker `add_job` → a no-op task starting, with a runner in this process.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Logger, run as runWorker } from "graphile-worker";
import pg from "pg";
import WebSocket, { WebSocketServer } from "ws";
import { summarize, type Summary } from "./report.ts";

const CHANNEL = "iepgen_bench_ping";

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return client;
}

/** Times `samples` round trips: `send(i)`, then the receiver marks sample i arrived (the first 5 warm up). */
async function roundTrips(samples: number, send: (i: number) => Promise<unknown>, arrival: { next(i: number): Promise<number> }): Promise<Summary> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const arrived = arrival.next(i);
    const sent = performance.now();
    await send(i);
    latencies.push((await arrived) - sent);
  }
  return summarize(latencies.slice(Math.min(5, samples - 1)));
}

/** Resolves the promise of sample `i` when `mark(i)` is called with the arrival time. */
function arrivals() {
  const waiting = new Map<number, (at: number) => void>();
  return {
    next: (i: number) => new Promise<number>((resolve) => waiting.set(i, resolve)),
    mark: (i: number, at = performance.now()) => waiting.get(i)?.(at),
  };
}

/** NOTIFY on one connection → notification on another (LISTENing) connection. */
export async function notifyListen(databaseUrl: string, samples: number): Promise<Summary> {
  const [listener, sender] = await Promise.all([connect(databaseUrl), connect(databaseUrl)]);
  const arrival = arrivals();
  try {
    await listener.query(`listen ${CHANNEL}`);
    listener.on("notification", (message) => arrival.mark(Number(message.payload)));
    return await roundTrips(samples, (i) => sender.query("select pg_notify($1, $2)", [CHANNEL, String(i)]), arrival);
  } finally {
    await Promise.all([listener.end(), sender.end()]);
  }
}

/** NOTIFY → LISTEN → sent over a bare `ws` socket to a client (what a subscription relay does, raw). */
export async function notifyListenWsRelay(databaseUrl: string, samples: number): Promise<Summary> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  const sockets = new Set<WebSocket>();
  server.on("connection", (socket) => sockets.add(socket));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await once(client, "open");
  const [listener, sender] = await Promise.all([connect(databaseUrl), connect(databaseUrl)]);
  const arrival = arrivals();
  client.on("message", (data) => arrival.mark(Number(JSON.parse(data.toString()).payload)));
  try {
    await listener.query(`listen ${CHANNEL}`);
    listener.on("notification", (message) => {
      for (const socket of sockets) socket.send(JSON.stringify({ payload: message.payload }));
    });
    return await roundTrips(samples, (i) => sender.query("select pg_notify($1, $2)", [CHANNEL, String(i)]), arrival);
  } finally {
    client.close();
    await Promise.all([listener.end(), sender.end()]);
    await new Promise((resolve) => server.close(resolve));
  }
}

/** `graphile_worker.add_job` over `pg` → a no-op task starting in a graphile-worker runner (LISTEN-woken). */
export async function addJobToTaskStart(databaseUrl: string, samples: number, pollIntervalMs = 1000): Promise<Summary> {
  const arrival = arrivals();
  const runner = await runWorker({
    connectionString: databaseUrl, concurrency: 1, pollInterval: pollIntervalMs, noHandleSignals: true,
    logger: new Logger(() => () => undefined),
    taskList: { iepgen_bench_noop: async (payload) => arrival.mark((payload as { i: number }).i) },
  });
  const sender = await connect(databaseUrl);
  try {
    return await roundTrips(samples, (i) => sender.query("select graphile_worker.add_job('iepgen_bench_noop', json_build_object('i', $1::int))", [i]), arrival);
  } finally {
    await sender.end();
    await runner.stop();
  }
}
