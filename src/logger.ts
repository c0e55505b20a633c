import { pino } from "pino";
import { Logger as WorkerLogger, type LogLevel as WorkerLogLevel } from "graphile-worker";

/** The one structured logger type used across iepgen (pino). */
export type Logger = pino.Logger;

/** Creates the root logger; child loggers carry request, job and component context. CLIs log to stderr. */
export function createLogger(level: string = "info", destination: "stdout" | "stderr" = "stdout"): Logger {
  return pino(
    { level, base: { service: "iepgen" }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: destination === "stderr" ? 2 : 1, sync: destination === "stderr" }),
  );
}

const workerLevelToPino: Record<WorkerLogLevel, "error" | "warn" | "info" | "debug"> = {
  error: "error",
  warning: "warn",
  info: "info",
  debug: "debug",
};

/** Bridges graphile-worker's logger into ours so worker and job lines share one format. */
export function graphileWorkerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => {
    const child = logger.child({
      component: "graphile-worker",
      ...(scope.label ? { label: scope.label } : {}),
      ...(scope.workerId ? { workerId: scope.workerId } : {}),
      ...(scope.taskIdentifier ? { task: scope.taskIdentifier } : {}),
      ...(scope.jobId ? { jobId: scope.jobId } : {}),
    });
    return (level, message, meta) => child[workerLevelToPino[level]](workerMeta(meta), message);
  });
}

/**
 * graphile-worker attaches whole job rows to some lines; their `last_error` may quote a failure's
 * text. Keep the job's id and attempts only.
 */
function workerMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!meta || typeof meta.job !== "object" || meta.job === null) return meta ?? {};
  const { job, ...rest } = meta as { job: { id?: unknown; attempts?: unknown } };
  return { ...rest, jobId: job.id, attempts: job.attempts };
}
