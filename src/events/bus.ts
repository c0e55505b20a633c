import pg from "pg";
import { createPubSub } from "graphql-yoga";
import { z } from "zod";
import type { Logger } from "../logger.ts";
import type { Queryable } from "../db/pool.ts";
import { GenerationStage, GenerationStatus } from "../db/generations.ts";

/** The one Postgres channel iepgen publishes on. Payloads must stay under 8,000 bytes. */
export const EVENTS_CHANNEL = "iepgen_events";

/** A stored generation event's content, as its NOTIFY carries it; `at` is created_at in epoch ms. */
const StoredEventContent = z.object({
  status: GenerationStatus,
  progress: z.number(),
  stage: GenerationStage,
  message: z.string().nullable(),
  at: z.number(),
});

export const BusEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("evidence.status"),
    schoolId: z.string(),
    studentId: z.string(),
    evidenceId: z.string(),
    status: z.enum(["PENDING", "READY", "FAILED"]),
  }),
  /**
   * A stored generation event (the row is in generation_events). `event` is the row itself when the
   * payload fits in a NOTIFY; without it (a very long message) subscribers read the row.
   */
  z.object({
    type: z.literal("generation.event"),
    schoolId: z.string(),
    generationId: z.string(),
    batchId: z.string().nullable(),
    seq: z.number(),
    event: StoredEventContent.optional(),
  }),
  /** Streamed draft text, coalesced; never stored. `seq` is the latest stored event's seq. */
  z.object({
    type: z.literal("generation.delta"),
    schoolId: z.string(),
    generationId: z.string(),
    seq: z.number(),
    text: z.string(),
  }),
  /**
   * A feed's marker (src/events/generation-feed.ts): once its own NOTIFY comes back, every event
   * committed before it was sent has been received, so stored events still missing were lost.
   */
  z.object({ type: z.literal("generation.fence"), generationId: z.string(), fence: z.string() }),
  /** Asks whichever process runs this generation to abort it. */
  z.object({ type: z.literal("generation.cancel"), generationId: z.string() }),
]);
/** An event crossing processes through Postgres NOTIFY. */
export type BusEvent = z.infer<typeof BusEvent>;
export type EvidenceStatusEvent = Extract<BusEvent, { type: "evidence.status" }>;
export type GenerationStoredEvent = Extract<BusEvent, { type: "generation.event" }>;
export type GenerationDeltaEvent = Extract<BusEvent, { type: "generation.delta" }>;
export type GenerationCancelEvent = Extract<BusEvent, { type: "generation.cancel" }>;
export type GenerationFenceEvent = Extract<BusEvent, { type: "generation.fence" }>;

/** Publishes an event; inside a transaction it is delivered at commit (and never if it rolls back). */
export async function publishEvent(db: Queryable, event: BusEvent): Promise<void> {
  await db.query("select pg_notify($1, $2)", [EVENTS_CHANNEL, JSON.stringify(event)]);
}

export type PubSubTopics = {
  "evidence.status": [studentId: string, event: EvidenceStatusEvent];
  generation: [generationId: string, event: GenerationStoredEvent | GenerationDeltaEvent | GenerationFenceEvent];
  batch: [batchId: string, event: GenerationStoredEvent];
  "generation.cancel": [event: GenerationCancelEvent];
  /** Local only: the LISTEN connection came back, so NOTIFYs may have been missed; re-read state. */
  "bus.resync": [event: { type: "bus.resync"; periodic?: boolean }];
};
export type PubSub = ReturnType<typeof createPubSub<PubSubTopics>>;

function routeEvent(pubsub: PubSub, event: BusEvent): void {
  switch (event.type) {
    case "evidence.status":
      return pubsub.publish("evidence.status", event.studentId, event);
    case "generation.event":
      pubsub.publish("generation", event.generationId, event);
      if (event.batchId) pubsub.publish("batch", event.batchId, event);
      return;
    case "generation.delta":
    case "generation.fence":
      return pubsub.publish("generation", event.generationId, event);
    case "generation.cancel":
      return pubsub.publish("generation.cancel", event);
  }
}

const GENERATION_EVENT_KEY_SQL = `'type', 'generation.event', 'schoolId', updated.school_id, 'generationId', updated.id,
  'batchId', updated.batch_id, 'seq', updated.last_seq`;

/**
 * SQL that NOTIFYs a stored generation event for each row of a CTE named `updated` (delivered at
 * commit). The event row is the updated generation's status, progress, stage and message, created at
 * now(), so the payload carries it whole and subscribing processes need not read it back; when that
 * would not fit in a NOTIFY (8,000 bytes) only the key travels.
 */
export const NOTIFY_GENERATION_EVENT_SQL = `pg_notify('${EVENTS_CHANNEL}', (
  select case when octet_length(whole) < 8000 then whole else key_only end from (select
    json_build_object(${GENERATION_EVENT_KEY_SQL}, 'event', json_build_object('status', updated.status,
      'progress', updated.progress, 'stage', updated.stage, 'message', updated.message,
      'at', floor(extract(epoch from now()) * 1000)))::text as whole,
    json_build_object(${GENERATION_EVENT_KEY_SQL})::text as key_only) payload))`;

/** SQL that NOTIFYs an evidence status for each row of a CTE named `updated` (delivered at commit). */
export const NOTIFY_EVIDENCE_STATUS_SQL = `pg_notify('${EVENTS_CHANNEL}', json_build_object(
  'type', 'evidence.status', 'schoolId', updated.school_id, 'studentId', updated.student_id,
  'evidenceId', updated.id, 'status', updated.status)::text)`;

/**
 * One LISTEN connection per API process feeding yoga's in-process pubsub. Reconnects on its own;
 * after a reconnect it publishes `bus.resync`, since NOTIFYs sent meanwhile were lost, so that
 * open subscriptions re-read the tables.
 */
export interface EventBus {
  readonly pubsub: PubSub;
  /** Resolves once LISTEN is active (tests wait on it before publishing). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function startEventBus(connectionString: string, logger: Logger): EventBus {
  const pubsub = createPubSub<PubSubTopics>();
  const log = logger.child({ component: "event-bus" });
  let client: pg.Client | undefined;
  let closed = false;
  let retryDelayMs = 250;
  let connectedBefore = false;
  let markReady: () => void = () => undefined;
  let readyPromise = new Promise<void>((resolve) => (markReady = resolve));

  const dispatch = (payload: string | undefined) => {
    const parsed = BusEvent.safeParse(JSON.parse(payload ?? "null"));
    if (!parsed.success) return log.warn({ payload }, "ignored malformed bus event");
    routeEvent(pubsub, parsed.data);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client({ connectionString, application_name: "iepgen-listen" });
    next.on("notification", (message) => message.channel === EVENTS_CHANNEL && dispatch(message.payload));
    next.on("error", (error) => log.warn({ err: error }, "LISTEN connection error"));
    next.on("end", () => {
      if (closed || client !== next) return;
      readyPromise = new Promise<void>((resolve) => (markReady = resolve));
      log.warn("LISTEN connection ended; reconnecting");
      setTimeout(() => void connect(), retryDelayMs);
    });
    try {
      await next.connect();
      await next.query(`listen ${EVENTS_CHANNEL}`);
      client = next;
      retryDelayMs = 250;
      markReady();
      if (connectedBefore) {
        log.info("LISTEN connection restored; open subscriptions re-read what they may have missed");
        pubsub.publish("bus.resync", { type: "bus.resync" });
      }
      connectedBefore = true;
      if (closed) await next.end();
    } catch (error) {
      log.warn({ err: error, retryDelayMs }, "could not LISTEN; retrying");
      await next.end().catch(() => undefined);
      retryDelayMs = Math.min(retryDelayMs * 2, 10_000);
      setTimeout(() => void connect(), retryDelayMs);
    }
  };
  void connect();

  return {
    pubsub,
    ready: () => readyPromise,
    async close() {
      closed = true;
      await client?.end().catch(() => undefined);
    },
  };
}
