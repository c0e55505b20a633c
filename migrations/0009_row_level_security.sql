-- Row-level security: a second wall between schools. Every statement the API runs for a request
-- runs as the role iepgen_app (no BYPASSRLS, not the owner), with the caller's school in the
-- setting iepgen.school_id (src/db/tenant.ts); every tenant table then shows and accepts only that
-- school's rows, even to a query that forgets its school_id condition. System work (migrations,
-- sweeps across schools, the CLIs) runs as the connecting role, the owner.

do $$
begin
  create role iepgen_app nologin nosuperuser nobypassrls;
exception when duplicate_object or unique_violation then
  null;
end
$$;

-- The connecting role switches to iepgen_app per request (SET ROLE needs membership unless superuser).
do $$
begin
  execute format('grant iepgen_app to %I', current_user);
exception when others then
  null;
end
$$;

create function iepgen_current_school() returns uuid language sql stable as $$
  select nullif(current_setting('iepgen.school_id', true), '')::uuid
$$;

-- How many QUEUED generations, of every school, run before one: the queue is shared, so a
-- position is only true counted across schools. Runs as the owner; reveals only a count.
create function iepgen_queue_ahead(priority integer, created_at timestamptz, id uuid) returns integer
  language sql stable security definer set search_path = public as $$
  select count(*)::int from generations g
  where g.status = 'QUEUED' and (g.priority, g.created_at, g.id) < (iepgen_queue_ahead.priority, iepgen_queue_ahead.created_at, iepgen_queue_ahead.id)
$$;

-- graphile-worker protects its own tables with row-level security, so requests (as iepgen_app)
-- add and remove jobs through these two functions, which run as the owner. They are the queue's
-- public functions, nothing more.
create function iepgen_add_jobs(specs graphile_worker.job_spec[]) returns void
  language plpgsql security definer set search_path = pg_catalog as $$
begin
  perform graphile_worker.add_jobs(specs);
end
$$;

create function iepgen_remove_job(job_key text) returns void
  language plpgsql security definer set search_path = pg_catalog as $$
begin
  perform graphile_worker.remove_job(job_key);
end
$$;

alter table schools enable row level security;
create policy tenant_isolation on schools using (id = iepgen_current_school()) with check (id = iepgen_current_school());

do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array[
    'users', 'students', 'evidence', 'evidence_chunks', 'generation_batches', 'ieps', 'generations',
    'generation_events', 'student_assignments', 'audit_log'
  ] loop
    execute format('alter table %I enable row level security', tenant_table);
    execute format(
      'create policy tenant_isolation on %I using (school_id = iepgen_current_school()) with check (school_id = iepgen_current_school())',
      tenant_table);
  end loop;
end
$$;
