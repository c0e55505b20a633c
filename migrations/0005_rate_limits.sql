-- Rate limits on generation requests, shared by every API process (src/db/rate-limits.ts).
-- * One row per (scope, subject, minute): a counter that `insert … on conflict do update` raises
--   in the request's own transaction, so a refused or failed request leaves no trace and concurrent
--   requests from any process are counted exactly (the row lock serialises them).
-- * The limit is checked against a rolling minute: this minute's hits plus the previous minute's,
--   weighted by how much of it is still inside the last 60 s.
-- * Windows older than the previous minute are useless; each check deletes up to 100 of them
--   (window_start is indexed), so the table stays as small as the set of recently active callers.

create table rate_limit_counters (
  scope text not null check (scope in ('user', 'school')),
  subject uuid not null,
  window_start timestamptz not null,
  hits integer not null check (hits > 0),
  primary key (scope, subject, window_start)
);

create index rate_limit_counters_window_idx on rate_limit_counters (window_start);
