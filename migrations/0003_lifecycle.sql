-- One explicit generation lifecycle and crash recovery.
-- * Stages are an enum (GraphQL GenerationStage); free strings are gone.
-- * A run is fenced by run_id: only the run that `start` created may step, succeed, requeue or fail
--   it, so a run that was presumed dead (and recovered elsewhere) can never write over the new one.
-- * runner_id names the process running it (a row of worker_heartbeats), so a sweeper can recover
--   generations whose process stopped beating.
-- * One IEP per generation, whatever happens to the job that saved it.

create type generation_stage as enum (
  'queued', 'starting', 'retrieving', 'drafting', 'repairing', 'validating', 'saving', 'done', 'failed',
  'cancelled', 'waiting_to_retry', 'waiting_for_gemini', 'waiting_for_database', 'interrupted', 'recovered'
);

create function pg_temp.to_stage(value text) returns generation_stage language sql immutable as $$
  select case
    when value is null then 'queued'
    when value = 'waiting for Gemini' then 'waiting_for_gemini'
    else replace(value, ' ', '_')
  end::generation_stage
$$;

alter table generations alter column stage type generation_stage using pg_temp.to_stage(stage);
alter table generations alter column stage set default 'queued', alter column stage set not null;
alter table generation_events alter column stage type generation_stage using pg_temp.to_stage(stage);
alter table generation_events alter column stage set not null;

alter table generations add column run_id uuid, add column runner_id uuid;
create index generations_running_idx on generations (runner_id) where status = 'RUNNING';
create index generations_queued_idx on generations (updated_at) where status = 'QUEUED';

create unique index ieps_generation_idx on ieps (generation_id) where generation_id is not null;

-- Every iepgen process (API, worker or both) beats here every few seconds. A process silent for
-- longer than WORKER_DEAD_AFTER_MS is presumed dead: its graphile-worker locks are released and
-- its running generations recovered.
create table worker_heartbeats (
  id uuid primary key,
  role text not null check (role in ('api', 'worker', 'all')),
  host text not null,
  pid integer not null,
  worker_ids text[] not null default '{}',
  concurrency integer not null default 0,
  started_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);

alter table evidence add column runner_id uuid, add column attempts integer not null default 0;
create index evidence_pending_idx on evidence (updated_at) where status = 'PENDING';
-- The generations each process is running right now (a RUNNING generation not listed by its live
-- runner, and not changed for a while, was lost by it and is recovered too).
alter table worker_heartbeats add column running_ids uuid[] not null default '{}';
