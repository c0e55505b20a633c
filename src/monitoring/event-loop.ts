/**
 * Event-loop delay monitoring: how long callbacks wait because something else holds the (single)
 * JavaScript thread. Two instruments, both on unref()ed timers so they never keep a process alive:
 * - `perf_hooks.monitorEventLoopDelay`, a native histogram reset every sampling window, for the
 *   p50 / p99 / max delay of the last full window (what /healthz shows);
 * - a block detector: a JS timer that measures how late it fires. A lateness above the threshold
 *   is one long synchronous block; it is logged as a warn line `{ blockedMs }` "event loop blocked",
 *   at most one line per window (the others are counted in the next line's `suppressed`).
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { Logger } from "../logger.ts";

/** Settings of {@link startEventLoopMonitor}; every field is optional. */
export interface EventLoopMonitorOptions {
  /** A single block longer than this is logged (default 100 ms). */
  thresholdMs?: number;
  /** The sampling window: the histogram is reset, and at most one block is logged, per window (default 5,000 ms). */
  intervalMs?: number;
  /** How often the histogram and the block detector sample the loop (default 20 ms). */
  resolutionMs?: number;
}

/** Event-loop delay over the last full sampling window (the current, partial one before the first ends). */
export interface EventLoopSnapshot {
  /** Median delay of a callback beyond its due time, in ms. */
  p50Ms: number;
  /** 99th-percentile delay, in ms. */
  p99Ms: number;
  /** Largest delay, in ms: about the longest synchronous block in the window. */
  maxMs: number;
  /** How many delay samples the numbers come from (0 until the histogram has sampled twice). */
  samples: number;
  /** How long the most recent block above the threshold lasted, in ms (absent when none was seen). */
  lastBlockMs?: number;
  /** When that block ended (ISO 8601). */
  lastBlockAt?: string;
}

/** A running monitor; {@link EventLoopMonitor.stop} ends its timers. */
export interface EventLoopMonitor {
  /** The latest numbers, for health checks. */
  snapshot(): EventLoopSnapshot;
  /** Stops sampling; safe to call more than once. */
  stop(): void;
}

const DEFAULTS = { thresholdMs: 100, intervalMs: 5000, resolutionMs: 20 } as const;
const NS_PER_MS = 1e6;

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

interface LastBlock {
  ms: number;
  at: string;
}

/**
 * Starts measuring event-loop delay: a `monitorEventLoopDelay` histogram reset every `intervalMs`,
 * and a detector that logs `{ blockedMs }` "event loop blocked" (warn) when one block exceeds
 * `thresholdMs`. Call `stop()` on shutdown; the timers are unref()ed, so forgetting does not hang exit.
 */
export function startEventLoopMonitor(logger: Logger, options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const histogram = monitorEventLoopDelay({ resolution: settings.resolutionMs });
  histogram.enable();
  let lastWindow: Omit<EventLoopSnapshot, "lastBlockMs" | "lastBlockAt"> | undefined;
  let lastBlock: LastBlock | undefined;

  const reporter = blockReporter(logger, settings.thresholdMs, settings.intervalMs);
  const detector = startBlockDetector(settings.resolutionMs, (blockedMs) => {
    if (blockedMs <= settings.thresholdMs) return;
    lastBlock = { ms: round(blockedMs), at: new Date().toISOString() };
    reporter(lastBlock.ms);
  });
  const window = setInterval(() => {
    lastWindow = readHistogram(histogram, settings.resolutionMs);
    histogram.reset();
  }, settings.intervalMs).unref();

  let stopped = false;
  return {
    snapshot: () => ({
      ...(lastWindow ?? readHistogram(histogram, settings.resolutionMs)),
      ...(lastBlock ? { lastBlockMs: lastBlock.ms, lastBlockAt: lastBlock.at } : {}),
    }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(window);
      detector.stop();
      histogram.disable();
    },
  };
}

/** Options without explicit `undefined`s, so they do not override the defaults. */
function definedOnly(options: EventLoopMonitorOptions): EventLoopMonitorOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/**
 * The histogram's numbers in ms. Each sample is the time between two of its timer's firings, so
 * the resolution itself is subtracted to leave only the delay.
 */
function readHistogram(histogram: IntervalHistogram, resolutionMs: number): Omit<EventLoopSnapshot, "lastBlockMs" | "lastBlockAt"> {
  const samples = histogram.count;
  if (samples === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0, samples };
  const delayMs = (ns: number) => round(Math.max(0, ns / NS_PER_MS - resolutionMs));
  return { p50Ms: delayMs(histogram.percentile(50)), p99Ms: delayMs(histogram.percentile(99)), maxMs: delayMs(histogram.max), samples };
}

/**
 * Calls `onTick(lateMs)` every `tickMs` with how late the timer fired. A timer due during a
 * synchronous block fires when it ends, so a block of B ms shows as lateness between B − tickMs and B.
 */
function startBlockDetector(tickMs: number, onTick: (lateMs: number) => void): { stop(): void } {
  let previous = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    onTick(now - previous - tickMs);
    previous = now;
  }, tickMs).unref();
  return { stop: () => clearInterval(timer) };
}

/** Logs a block at most once per `everyMs`; blocks not logged are counted in the next line. */
function blockReporter(logger: Logger, thresholdMs: number, everyMs: number): (blockedMs: number) => void {
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (blockedMs) => {
    const now = performance.now();
    if (now - lastLoggedAt < everyMs) {
      suppressed += 1;
      return;
    }
    logger.warn({ blockedMs, thresholdMs, ...(suppressed > 0 ? { suppressed } : {}) }, "event loop blocked");
    lastLoggedAt = now;
    suppressed = 0;
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
