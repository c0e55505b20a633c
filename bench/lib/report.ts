/**
 * What every benchmark in the suite returns (`npm run bench`, bench/suite.ts): figures measured
 * side by side with their raw baselines from the same run, each with a target judged PASS/MISS.
 * Targets are reported, never asserted: a MISS is explained in BENCHMARKS.md with its measurement.
 */

/** One measured number next to the raw tool it is built on, from the same run. */
export interface Figure {
  /** What is measured, e.g. "enqueue p50, sequential". */
  name: string;
  value: number;
  unit: string;
  /** The raw baseline measured in the same run (e.g. graphile_worker.add_job over pg). */
  baseline?: { name: string; value: number; unit: string };
  /** The target as a person reads it, e.g. "≤ 3 ms" or "≥ 0.6 × baseline". */
  target: string;
  /** Whether the target was met; null when the figure is informational. */
  pass: boolean | null;
  note?: string;
}

/** A benchmark's result: its figures plus every raw number it measured (printed as JSON). */
export interface BenchResult {
  bench: string;
  figures: Figure[];
  raw: Record<string, unknown>;
}

/** A benchmark module of the suite: bench/<name>.ts exports `run`. */
export type Bench = (options: { quick: boolean }) => Promise<BenchResult>;

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles of a sample (nearest-rank), rounded to 0.01. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, min: round(sorted[0] ?? Number.NaN), p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted.at(-1) ?? Number.NaN), mean: round(mean) };
}

export function round(value: number, places = 2): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}

/** A figure whose target is an upper bound ("≤ limit unit"). */
export function atMost(name: string, value: number, limit: number, unit: string, extra: Partial<Figure> = {}): Figure {
  return { name, value: round(value), unit, target: `≤ ${limit} ${unit}`, pass: value <= limit, ...extra };
}

/** A figure whose target is a lower bound ("≥ limit unit"). */
export function atLeast(name: string, value: number, limit: number, unit: string, extra: Partial<Figure> = {}): Figure {
  return { name, value: round(value), unit, target: `≥ ${limit} ${unit}`, pass: value >= limit, ...extra };
}

/** A figure whose target is a ratio to its baseline ("≥ ratio × baseline"). */
export function ratioAtLeast(name: string, value: number, unit: string, baseline: { name: string; value: number }, ratio: number): Figure {
  return {
    name, value: round(value), unit, baseline: { ...baseline, value: round(baseline.value), unit },
    target: `≥ ${ratio} × baseline (${round(baseline.value * ratio)} ${unit})`, pass: value >= baseline.value * ratio,
  };
}
