import type pg from "pg";
import { findGenerationForTask, jobPriority, type Generation } from "../../db/generations.ts";
import { mapDatabaseError } from "../../db/errors.ts";
import { IEP_VERSION_CONSTRAINT } from "../../db/ieps.ts";
import { withTransaction } from "../../db/pool.ts";
import { untilDatabaseAnswers } from "../../db/retry.ts";
import { classifyFailure, type Failure } from "../../jobs/failure.ts";
import { nextRunAt, type RetryTimings } from "../../jobs/retry-policy.ts";
import * as lifecycle from "../../lifecycle/generation.ts";
import type { Logger } from "../../logger.ts";
import type { IepContent } from "../../iep/content.ts";
import { generateIep } from "../../../tasks/generate_iep.ts";
import { RunSupersededError } from "./errors.ts";

interface FinishDeps {
  pool: pg.Pool;
  logger: Logger;
  gemini: { config: { simulated: boolean } };
  retry?: RetryTimings;
}

const VERSION_RACE_TRIES = 50;

/**
 * Saves the validated IEP and marks the run SUCCEEDED in one statement (lifecycle `succeed`).
 * Versions are allocated under a per-student-and-year lock; a version another draft committed
 * meanwhile makes the statement fail as a duplicate, and it is tried again (each failure means
 * another draft's IEP was saved, so the tries are bounded by the drafts saving at once). If this
 * run no longer owns the generation (cancelled, taken over), nothing is saved.
 */
export async function saveDraft(deps: FinishDeps, run: lifecycle.RunRef, generation: Generation, content: IepContent, model: string): Promise<Generation> {
  const iep = {
    studentId: generation.student_id, academicYear: generation.academic_year, content,
    model: deps.gemini.config.simulated ? `${model} (iepgen simulator)` : model,
  };
  for (let tries = 1; ; tries++) {
    try {
      const done = await lifecycle.succeed({ db: deps.pool, log: deps.logger }, run, iep);
      if (!done) throw new RunSupersededError(generation.id);
      return done;
    } catch (error) {
      const versionTaken = (error as { constraint?: string }).constraint === IEP_VERSION_CONSTRAINT;
      if (!versionTaken || tries >= VERSION_RACE_TRIES) throw mapDatabaseError(error);
    }
  }
}

const WAIT_STAGES: Record<"interrupted" | "gemini" | "database" | "retryable", lifecycle.WaitStage> = {
  interrupted: "interrupted",
  gemini: "waiting_for_gemini",
  database: "waiting_for_database",
  retryable: "waiting_to_retry",
};

/**
 * Ends a failed run as its classification says (src/jobs/failure.ts): cancelled → nothing more
 * written; otherwise QUEUED again with its job re-added for the retry time (in one transaction),
 * or FAILED. Retried while the database is unreachable, so the outcome is never lost.
 */
export async function finishFailedRun(deps: FinishDeps, generation: Generation, error: unknown, signal: AbortSignal): Promise<Generation | undefined> {
  const failure = classifyFailure(error, signal);
  if (failure.kind === "cancelled") {
    deps.logger.info({ reason: failure.reason }, "run stopped: cancelled or taken over");
    return findGenerationForTask(deps.pool, generation.id).catch(() => generation);
  }
  const run = lifecycle.runOf(generation);
  const runAt = nextRunAt(failure, { attempts: generation.attempts, maxAttempts: generation.max_attempts, requestedAt: generation.created_at }, deps.retry);
  const ended = await untilDatabaseAnswers(
    () => (runAt ? requeueRun(deps, run, generation, failure, runAt) : failRun(deps, run, generation, failure)),
    deps.logger,
  );
  return ended ?? findGenerationForTask(deps.pool, generation.id);
}

function requeueRun(deps: FinishDeps, run: lifecycle.RunRef, generation: Generation, failure: Failure, runAt: Date) {
  const refundAttempt = failure.kind !== "retryable";
  const stage = WAIT_STAGES[failure.kind === "unavailable" ? failure.dependency ?? "gemini" : failure.kind as "interrupted" | "retryable"];
  const message = requeueMessage(failure, generation, runAt);
  deps.logger.warn({ err: failure.reason, kind: failure.kind, runAt, refundAttempt }, "generation requeued");
  return withTransaction(deps.pool, async (client) => {
    const requeued = await lifecycle.requeue({ db: client, log: deps.logger }, run, { stage, message, reason: failure.reason, refundAttempt });
    if (requeued) await generateIep.enqueue(client, { generationId: generation.id }, { priority: jobPriority(generation), runAt });
    return requeued;
  });
}

function requeueMessage(failure: Failure, generation: Generation, runAt: Date): string {
  const at = runAt.toISOString();
  switch (failure.kind) {
    case "interrupted":
      return "The worker shut down mid-run; queued again for another worker (this does not use up an attempt)";
    case "unavailable":
      return failure.dependency === "database"
        ? `The database was unavailable; trying again at ${at} (this does not use up an attempt)`
        : `Gemini is unavailable; trying again at ${at} (this does not use up an attempt)`;
    default:
      return `Attempt ${generation.attempts} of ${generation.max_attempts} failed; retrying at ${at}`;
  }
}

function failRun(deps: FinishDeps, run: lifecycle.RunRef, generation: Generation, failure: Failure) {
  const message = failure.kind === "retryable"
    ? `Generation failed after ${generation.attempts} attempts`
    : failure.kind === "unavailable" ? "Gemini was unavailable for over 24 hours; giving up" : "Generation failed";
  deps.logger.warn({ err: failure.reason, kind: failure.kind }, "generation failed");
  return lifecycle.fail({ db: deps.pool, log: deps.logger }, run, message, failure.reason);
}
