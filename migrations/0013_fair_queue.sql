-- Fair scheduling across schools, decided at enqueue time (README "Fair scheduling").
-- graphile-worker runs jobs by priority, then run_at. A generation's job priority is its own
-- priority (-100..100) plus its `queue_rank`: how many of its school's generations were already
-- QUEUED when it was queued (a batch's n-th member adds n). A school's first waiting draft ranks 0,
-- its 200th ranks 199, so one school's long batch cannot hold back another school's single
-- request: the queue interleaves schools, and priorities still order drafts inside a school.
alter table generations add column queue_rank integer not null default 0;

-- Counting a school's QUEUED generations at every enqueue.
create index generations_school_queued_idx on generations (school_id) where status = 'QUEUED';

-- The queue position estimate follows the same order as the jobs (priority + rank, then age).
create or replace function iepgen_queue_ahead(priority integer, created_at timestamptz, id uuid) returns integer
  language sql stable security definer set search_path = public as $$
  select count(*)::int from generations g
  where g.status = 'QUEUED'
    and (g.priority + g.queue_rank, g.created_at, g.id) < (iepgen_queue_ahead.priority, iepgen_queue_ahead.created_at, iepgen_queue_ahead.id)
$$;

-- Ends a statement that took rate-limit hits beyond a budget: raising rolls the whole statement
-- back (hits included), so a refused request writes nothing. `windows` (the counted budgets) goes
-- to the client in DETAIL, from which it computes Retry-After.
create function iepgen_refuse_over_limit(over boolean, windows json) returns boolean
  language plpgsql as $$
begin
  if over then
    raise exception 'rate limited' using errcode = 'IE429', detail = windows::text;
  end if;
  return true;
end
$$;
