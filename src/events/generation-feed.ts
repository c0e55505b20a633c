import type pg from "pg";
import { listGenerationEvents, TERMINAL_STATUSES, type GenerationEvent, type GenerationStage, type GenerationStatus } from "../db/generations.ts";
import { asSchool } from "../db/tenant.ts";
import { randomUUID } from "node:crypto";
import { publishEvent, type GenerationDeltaEvent, type GenerationFenceEvent, type GenerationStoredEvent, type PubSub } from "./bus.ts";
import { listenNow, withResync, type Resync } from "./listen.ts";

/** What a `generationEvents` subscriber receives: a stored event, or live draft text (`textDelta`). */
export interface GenerationEventView {
  generationId: string;
  seq: number;
  status: GenerationStatus;
  progress: number;
  stage: GenerationStage;
  message: string | null;
  textDelta: string | null;
  at: Date;
}

export function storedView(event: GenerationEvent): GenerationEventView {
  return { generationId: event.generation_id, seq: event.seq, status: event.status, progress: event.progress,
    stage: event.stage, message: event.message, textDelta: null, at: event.created_at };
}

/** The stored event a NOTIFY carries in full, or undefined when it only carries the key (too big). */
function notifiedView(event: GenerationStoredEvent): GenerationEventView | undefined {
  if (!event.event) return undefined;
  const { status, progress, stage, message, at } = event.event;
  return { generationId: event.generationId, seq: event.seq, status, progress, stage, message, textDelta: null, at: new Date(at) };
}

const isTerminal = (view: GenerationEventView | undefined) => view !== undefined && TERMINAL_STATUSES.includes(view.status);

/** One subscriber's queue: views in delivery order; `ended` after the terminal event (or on close). */
interface Member {
  items: GenerationEventView[];
  ended: boolean;
  error?: unknown;
  wake?: () => void;
}

/**
 * One generation's events in one process, shared by every subscriber of it here: it listens to
 * the generation's NOTIFYs, keeps its stored events in memory (seq 1 up, contiguous), and hands
 * the same objects to every member. A stored event is read from Postgres at most once per process:
 * not at all when its NOTIFY carries it whole, once by the feed when the NOTIFY carried only its
 * key or a seq is missing (a lost NOTIFY), and on resync: at once after a bus reconnect, and every
 * 10 s behind a fence (checkForLost). Reads run as the generation's school (row-level security).
 */
class GenerationFeed {
  private readonly events: GenerationEventView[] = [];
  private readonly members = new Set<Member>();
  private readonly live;
  private readonly pool: pg.Pool;
  private readonly schoolId: string;
  private readonly generationId: string;
  private readonly onClose: () => void;
  private lastSeq = 0;
  private closed = false;
  /** Stored events the periodic check found missing, and the fence that will tell whether they were lost. */
  private missing: GenerationEventView[] = [];
  private fence: string | undefined;
  readonly loaded: Promise<void>;

  constructor(pool: pg.Pool, pubsub: PubSub, target: { schoolId: string; generationId: string }, onClose: () => void) {
    this.pool = pool;
    this.schoolId = target.schoolId;
    this.generationId = target.generationId;
    this.onClose = onClose;
    this.live = listenNow(withResync(pubsub, pubsub.subscribe("generation", target.generationId)));
    this.loaded = this.read(Number.POSITIVE_INFINITY);
    this.loaded.then(() => this.run(), (error) => this.fail(error));
  }

  /**
   * Adds a member with every stored event after `afterSeq`, ended at once if the latest is terminal.
   * Undefined when the feed closed before it was terminal (a new feed must be opened).
   */
  join(afterSeq: number): Member | undefined {
    const ended = isTerminal(this.events.at(-1));
    if (this.closed && !ended) return undefined;
    const member: Member = { items: this.events.filter((e) => e.seq > afterSeq), ended };
    if (!ended) this.members.add(member);
    else if (this.members.size === 0) this.close();
    return member;
  }

  leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0) this.close();
  }

  private async run(): Promise<void> {
    try {
      for (let item = await this.live.next(); !item.done && !this.closed; item = await this.live.next()) await this.handle(item.value);
    } catch (error) {
      this.fail(error);
    }
  }

  private async handle(event: GenerationStoredEvent | GenerationDeltaEvent | GenerationFenceEvent | Resync): Promise<void> {
    if (event.type === "bus.resync") return event.periodic ? this.checkForLost() : this.read(Number.POSITIVE_INFINITY);
    if (event.type === "generation.fence") return event.fence === this.fence ? this.repair() : undefined;
    if (event.schoolId !== this.schoolId || event.seq <= this.lastSeq - (event.type === "generation.delta" ? 1 : 0)) return;
    const whole = event.type === "generation.event" ? notifiedView(event) : undefined;
    if (whole && event.seq === this.lastSeq + 1) this.append([whole]);
    else if (event.seq > this.lastSeq) await this.read(event.seq);
    if (event.type === "generation.delta" && event.seq === this.lastSeq) this.relay(event.text);
  }

  /**
   * Reads the stored events after the latest known, up to `upTo`: in the live stream, the seq of the
   * event being handled, since reading past it would overtake text deltas still queued behind it.
   */
  private async read(upTo: number): Promise<void> {
    const rows = await asSchool(this.schoolId, () => listGenerationEvents(this.pool, this.schoolId, this.generationId, this.lastSeq));
    this.append(rows.filter((row) => row.seq <= upTo).map(storedView));
  }

  /**
   * The periodic check for a lost NOTIFY. Stored events missing here may only be queued behind
   * NOTIFYs not handled yet (a busy process); applying them now would overtake text deltas queued
   * before them. So they wait for a fence NOTIFY sent now: when it comes back, whatever of them
   * has still not arrived was lost, and is applied.
   */
  private async checkForLost(): Promise<void> {
    const rows = await asSchool(this.schoolId, () => listGenerationEvents(this.pool, this.schoolId, this.generationId, this.lastSeq));
    if (rows.length === 0) return;
    this.missing = rows.map(storedView);
    this.fence = randomUUID();
    await publishEvent(this.pool, { type: "generation.fence", generationId: this.generationId, fence: this.fence });
  }

  private repair(): void {
    const lost = this.missing.filter((view) => view.seq > this.lastSeq);
    this.missing = [];
    this.fence = undefined;
    if (lost[0]?.seq === this.lastSeq + 1) this.append(lost);
  }

  private append(views: GenerationEventView[]): void {
    if (views.length === 0 || this.closed) return;
    this.events.push(...views);
    this.lastSeq = views.at(-1)!.seq;
    const ends = isTerminal(views.at(-1));
    const hadMembers = this.members.size > 0;
    for (const member of this.members) {
      member.items.push(...views);
      if (ends) {
        member.ended = true;
        this.members.delete(member);
      }
      member.wake?.();
    }
    if (ends && hadMembers) this.close();
  }

  /** Live draft text: one view (the latest stored event plus the text) shared by every member. */
  private relay(text: string): void {
    const latest = this.events.at(-1);
    if (!latest) return;
    const view: GenerationEventView = { ...latest, textDelta: text, at: new Date() };
    for (const member of this.members) {
      member.items.push(view);
      member.wake?.();
    }
  }

  private fail(error: unknown): void {
    for (const member of this.members) {
      member.error = error;
      member.ended = true;
      member.wake?.();
    }
    this.members.clear();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    void this.live.close().catch(() => undefined);
  }
}

/** The feeds of one process, by school and generation (a process has one pubsub). */
const registries = new WeakMap<PubSub, Map<string, GenerationFeed>>();

function feedFor(pool: pg.Pool, pubsub: PubSub, schoolId: string, generationId: string): GenerationFeed {
  let feeds = registries.get(pubsub);
  if (!feeds) registries.set(pubsub, (feeds = new Map()));
  const key = `${schoolId}/${generationId}`;
  let feed = feeds.get(key);
  if (!feed) {
    const created: GenerationFeed = new GenerationFeed(pool, pubsub, { schoolId, generationId }, () => feeds.get(key) === created && feeds.delete(key));
    feeds.set(key, (feed = created));
  }
  return feed;
}

/** How many generation feeds this process has open (tests and metrics). */
export function openFeedCount(pubsub: PubSub): number {
  return registries.get(pubsub)?.size ?? 0;
}

/**
 * Subscribes to a generation's events after `afterSeq` through the process's shared feed: stored
 * events in seq order without loss or duplicates (replayed from the feed's memory, then live), text
 * deltas between them, ending after the terminal event. Joins on the first `next()`; `return()`
 * leaves the feed at once, even while waiting.
 */
export function subscribeGeneration(
  pool: pg.Pool, pubsub: PubSub, target: { schoolId: string; generationId: string }, afterSeq: number,
): AsyncIterableIterator<GenerationEventView> {
  let feed: GenerationFeed | undefined;
  let member: Member | undefined;
  let returned = false;
  const leave = () => {
    returned = true;
    if (feed && member) feed.leave(member);
    member?.wake?.();
  };
  const start = async (): Promise<Member> => {
    for (;;) {
      feed = feedFor(pool, pubsub, target.schoolId, target.generationId);
      await feed.loaded;
      const joined = feed.join(afterSeq);
      if (joined) return joined;
    }
  };
  const iterator: AsyncIterableIterator<GenerationEventView> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (returned) return { done: true, value: undefined };
      if (!member) {
        member = await start();
        if (returned) feed!.leave(member);
      }
      for (;;) {
        if (returned) return { done: true, value: undefined };
        const value = member.items.shift();
        if (value) return { done: false, value };
        if (member.error) throw member.error;
        if (member.ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (member!.wake = resolve));
        member.wake = undefined;
      }
    },
    async return() {
      leave();
      return { done: true, value: undefined };
    },
  };
  return iterator;
}
