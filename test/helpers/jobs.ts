import type pg from "pg";

/**
 * graphile-worker jobs as tests see them: only through its public `graphile_worker.jobs` view
 * (never graphile-worker's private tables). The view has no payload: a job is found by its key (which
 * names what it is for, e.g. `generate_iep:<generation id>`), its id, or its task.
 *
 * Note how graphile-worker treats keys: `add_job` with the key of a job that is currently locked
 * (running) clears that job's key and sets its attempts to max_attempts, then inserts a new job
 * holding the key; `remove_job` on a locked job likewise only clears its key. So the job holding
 * a key is always the current one, and an old job that lost its key is followed by its id.
 */
export interface JobRow {
  id: string;
  queue_name: string | null;
  task_identifier: string;
  key: string | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  run_at: Date;
  locked_at: Date | null;
  locked_by: string | null;
  last_error: string | null;
}

type Db = Pick<pg.Pool, "query">;

const COLUMNS = `id::text as id, queue_name, task_identifier, key, priority, attempts, max_attempts, run_at,
  locked_at, locked_by, last_error`;

/** The job currently holding `key`, if any. */
export async function jobByKey(db: Db, key: string): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>(`select ${COLUMNS} from graphile_worker.jobs where key = $1`, [key]);
  return rows[0];
}

/** The job with this id, if it still exists (a completed job is deleted). */
export async function jobById(db: Db, id: string): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>(`select ${COLUMNS} from graphile_worker.jobs where id = $1::bigint`, [id]);
  return rows[0];
}

/** Every job of a task (keyed or not), in the order graphile-worker picks them: priority, run_at, id. */
export async function jobsForTask(db: Db, task: string): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `select ${COLUMNS} from graphile_worker.jobs where task_identifier = $1 order by priority, run_at, id`, [task]);
  return rows;
}
