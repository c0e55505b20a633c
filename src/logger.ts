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
    return (level, message, meta) => child[workerLevelToPino[level]](meta ?? {}, message);
  });
}
