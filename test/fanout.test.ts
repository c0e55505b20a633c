import type { Client as WsClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { NOTIFY_GENERATION_EVENT_SQL } from "../src/events/bus.ts";
import { openFeedCount } from "../src/events/generation-feed.ts";
import { generate, storedEvents, watchGenerationEvents, wsClient, type StreamedEvent } from "./helpers/generation.ts";
import { createStudentViaApi, startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";

/**
 * Fan-out of stored generation events inside one API process: every subscriber of a generation
 * shares one feed, so a stored event is read from Postgres at most once per process however many
 * subscribe. No worker runs here: the test writes each event the way the lifecycle does (row,
 * event and NOTIFY in one statement), so it controls lost NOTIFYs and oversized messages.
 */

/** Stores the generation's next event; `notify: false` loses its NOTIFY (as during a reconnect). */
const EMIT_SQL = (notify: boolean) => `with updated as (
    update generations set status = $2::generation_status, stage = $3::generation_stage, progress = $4, message = $5,
      last_seq = last_seq + 1, updated_at = now()
    where id = $1 returning *
  ), event as (
    insert into generation_events (generation_id, seq, school_id, status, progress, stage, message)
    select id, last_seq, school_id, status, progress, stage, message from updated
  )
  select updated.last_seq as seq${notify ? `, ${NOTIFY_GENERATION_EVENT_SQL}` : ""} from updated`;

describe("generation event fan-out (one read per event per process)", () => {
  let stack: TestStack;
  let studentId: string;
  let admin: pg.Client;
  const clients: WsClient[] = [];
  let reads = 0;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    studentId = await createStudentViaApi(stack);
    admin = new pg.Client({ connectionString: stack.db.url });
    await admin.connect();
    const query = stack.runtime.pool.query.bind(stack.runtime.pool);
    vi.spyOn(stack.runtime.pool, "query").mockImplementation(((text: unknown, values?: unknown[]) => {
      if (typeof text === "string" && /from generation_events/.test(text)) reads += 1;
      return query(text as string, values);
    }) as typeof stack.runtime.pool.query);
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await admin?.end();
    await stack?.close();
  });

  async function emit(id: string, event: { status?: string; stage?: string; message?: string; notify?: boolean } = {}): Promise<number> {
    const { rows } = await admin.query(EMIT_SQL(event.notify ?? true), [id, event.status ?? "RUNNING", event.stage ?? "drafting", 0.5, event.message ?? "Drafting"]);
    return rows[0].seq;
  }

  const dbEvents = async (id: string) =>
    (await admin.query("select seq, message, created_at from generation_events where generation_id = $1 order by seq", [id])).rows;

  /** Opens `count` subscriptions spread over sockets of 10 and waits until each has its replayed first event. */
  async function subscribe(id: string, count: number, afterSeq = 0) {
    const watches = Array.from({ length: count }, (_, i) => {
      if (i % 10 === 0) clients.push(wsClient(stack));
      return watchGenerationEvents(clients.at(-1)!, id, { afterSeq });
    });
    await Promise.all(watches.map((w) => w.first));
    return watches;
  }

  /** Stores a run of events with a lost NOTIFY and a message too long for a NOTIFY, then SUCCEEDED. */
  async function runEvents(id: string): Promise<void> {
    await emit(id, { stage: "starting", message: "Starting" });
    await emit(id, { stage: "retrieving", message: "Retrieving evidence" });
    await emit(id, { stage: "drafting", message: "Lost NOTIFY", notify: false });
    for (let i = 0; i < 3; i++) await emit(id, { stage: "drafting", message: `Drafting ${i} "quoted" é` });
    await emit(id, { stage: "validating", message: "x".repeat(9000) });
    for (let i = 0; i < 3; i++) await emit(id, { stage: "validating", message: `Checking ${i}` });
    await emit(id, { status: "SUCCEEDED", stage: "done", message: "Saved" });
  }

  function expectWholeRun(events: StreamedEvent[], stored: { seq: number; message: string; created_at: Date }[]) {
    expect(events.map((e) => e.seq)).toEqual(stored.map((r) => r.seq));
    expect(events.map((e) => e.message)).toEqual(stored.map((r) => r.message));
    expect(events.map((e) => e.at)).toEqual(stored.map((r) => r.created_at.toISOString()));
    expect(events.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE" });
  }

  it("50 subscribers of one generation get every event in order, with no more reads than 1 subscriber", async () => {
    const readsFor = async (subscribers: number) => {
      const { id } = await generate(stack, { studentId });
      const watches = await subscribe(id, subscribers);
      expect(openFeedCount(stack.runtime.bus.pubsub)).toBe(1);
      const before = reads;
      await runEvents(id);
      const results = await Promise.all(watches.map((w) => w.done));
      const stored = await dbEvents(id);
      for (const result of results) {
        expect(result.timedOut).toBe(false);
        expectWholeRun(storedEvents(result.events), stored);
      }
      await waitFor(async () => openFeedCount(stack.runtime.bus.pubsub) === 0, 5000, "the feed to close");
      return reads - before;
    };
    const one = await readsFor(1);
    const fifty = await readsFor(50);
    // Two reads per run: the oversized message and the lost NOTIFY's gap (plus, rarely, a 10 s resync).
    expect(one).toBeGreaterThanOrEqual(2);
    expect(fifty).toBeLessThanOrEqual(one + 1);
    expect(fifty).toBeLessThan(10);
  });

  it("resumes with afterSeq from the feed's memory: nothing missed, nothing twice", async () => {
    const { id } = await generate(stack, { studentId });
    const [keeper] = await subscribe(id, 1);
    const dropClient = wsClient(stack);
    clients.push(dropClient);
    const dropped = watchGenerationEvents(dropClient, id);
    await emit(id, { stage: "starting" });
    await emit(id, { stage: "retrieving" });
    await waitFor(async () => storedEvents(dropped.events).length === 3, 5000, "the first three events");
    const seen = storedEvents(dropped.events).map((e) => e.seq);
    await dropClient.dispose(); // the dropped connection; the keeper has a socket of its own
    for (let i = 0; i < 3; i++) await emit(id, { stage: "drafting", message: `while away ${i}` });
    await waitFor(async () => storedEvents(keeper!.events).length === 6, 5000, "the keeper to see six events");

    const before = reads;
    const [resumed] = await subscribe(id, 1, seen.at(-1)!);
    expect(reads - before).toBe(0);
    await emit(id, { status: "SUCCEEDED", stage: "done", message: "Saved" });
    const after = storedEvents((await resumed!.done).events).map((e) => e.seq);
    expect([...seen, ...after]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(storedEvents((await keeper!.done).events).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("a lost NOTIFY of the last event is repaired by the periodic check (within one 10 s tick and a fence NOTIFY)", async () => {
    const { id } = await generate(stack, { studentId });
    const watches = await subscribe(id, 3);
    await emit(id, { stage: "starting" });
    await emit(id, { status: "SUCCEEDED", stage: "done", message: "Saved", notify: false });
    const results = await Promise.all(watches.map((w) => w.done));
    for (const result of results) {
      expect(result.timedOut).toBe(false);
      expect(storedEvents(result.events).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(result.events.at(-1)).toMatchObject({ status: "SUCCEEDED" });
    }
  }, 30_000);

  it("resumes with afterSeq on a generation no one else watches (the feed opens and reads once)", async () => {
    const { id } = await generate(stack, { studentId });
    for (let i = 0; i < 4; i++) await emit(id, { stage: "drafting", message: `step ${i}` });
    const before = reads;
    const [resumed] = await subscribe(id, 3, 2);
    expect(reads - before).toBe(1);
    await emit(id, { status: "FAILED", stage: "failed", message: "Gave up" });
    const events = storedEvents((await resumed!.done).events);
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(events.at(-1)).toMatchObject({ status: "FAILED" });
  });
});
