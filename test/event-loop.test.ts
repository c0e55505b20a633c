import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startEventLoopMonitor, type EventLoopMonitor } from "../src/monitoring/event-loop.ts";

/** A pino logger whose lines are collected (parsed) in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** Holds the event loop synchronously: the very thing the monitor measures. */
function blockFor(ms: number): void {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // busy-wait
  }
}

/** Polls `condition` until it holds or the deadline passes (then fails with `what`). */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const blockedLines = (lines: Record<string, unknown>[]) => lines.filter((line) => line.msg === "event loop blocked");

describe("startEventLoopMonitor", () => {
  let monitor: EventLoopMonitor | undefined;
  afterEach(() => monitor?.stop());

  it("logs a block above the threshold and shows it in the snapshot", async () => {
    const { logger, lines } = capturingLogger();
    monitor = startEventLoopMonitor(logger, { thresholdMs: 50, intervalMs: 1000, resolutionMs: 10 });
    const started = monitor;
    // The histogram records the time between two of its ticks: a block before its first tick goes unseen.
    await waitFor("a first sample", () => started.snapshot().samples > 0);
    blockFor(150);

    await waitFor("the warn line", () => blockedLines(lines).length > 0);
    const [line] = blockedLines(lines);
    expect(line).toMatchObject({ level: 40, thresholdMs: 50 });
    expect(line!.blockedMs).toBeGreaterThanOrEqual(100);

    await waitFor("a window holding the block", () => started.snapshot().maxMs >= 100);
    const snapshot = monitor.snapshot();
    expect(snapshot.p99Ms).toBeLessThanOrEqual(snapshot.maxMs);
    expect(snapshot.lastBlockMs).toBeGreaterThanOrEqual(100);
    expect(Date.parse(snapshot.lastBlockAt!)).not.toBeNaN();
  });

  it("logs nothing while no block exceeds the threshold", async () => {
    const { logger, lines } = capturingLogger();
    monitor = startEventLoopMonitor(logger, { thresholdMs: 2000, intervalMs: 1000, resolutionMs: 10 });
    const started = monitor;
    await waitFor("a first sample", () => started.snapshot().samples > 0);
    blockFor(150);

    // The monitor saw the block (a full window holds it), yet it stayed under the threshold.
    await waitFor("a window holding the block", () => started.snapshot().maxMs >= 100);
    expect(blockedLines(lines)).toEqual([]);
    expect(monitor.snapshot().lastBlockMs).toBeUndefined();
  });

  it("stops its timers and can be stopped twice", () => {
    const { logger } = capturingLogger();
    const stopped = startEventLoopMonitor(logger);
    expect(stopped.snapshot()).toMatchObject({ p50Ms: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number), samples: 0 });
    stopped.stop();
    stopped.stop();
  });
});
