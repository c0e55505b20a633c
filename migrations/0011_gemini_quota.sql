-- Gemini rate limit shared by every iepgen process (GEMINI_RPM, GEMINI_TPM), and Gemini call
-- statistics for queueStats. Neither holds school data: no row-level security on these tables.

-- The sliding-window log: one row per slot granted to a Gemini request, stamped with the time the
-- request may be sent (a slot can be reserved ahead; the caller sleeps until then). Rows older than
-- the window are pruned by iepgen_gemini_acquire itself. Unlogged: an acquire writes no WAL, so its
-- commit waits for no disk flush; after a database crash the log starts empty (at worst one window
-- of requests beyond the limit).
create unlogged table gemini_quota_grants (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  tokens int not null check (tokens >= 0)
);
create index gemini_quota_grants_at_idx on gemini_quota_grants (at);

-- Reserves the earliest slot for one request of about `tokens` tokens such that no `window_ms`
-- window holds more than `rpm` requests or `tpm` tokens (a null limit is no limit; a request larger
-- than `tpm` counts as `tpm`). `wait_ms` is how long the caller must wait before sending it. When
-- that is longer than `max_wait_ms` nothing is reserved (`granted` false) and `wait_ms` says how
-- long the caller would have had to wait. Serialised by a transaction advisory lock; one statement.
-- SECURITY DEFINER so that jobs running as iepgen_app (row-level security) may call it.
create function iepgen_gemini_acquire(rpm int, tpm int, tokens int, window_ms int, max_wait_ms int,
  out granted boolean, out wait_ms int)
  language plpgsql security definer set search_path = pg_catalog as $$
declare
  now_ts timestamptz;
  span interval := make_interval(secs => window_ms / 1000.0);
  by_requests timestamptz;
  by_tokens timestamptz;
  slot timestamptz;
begin
  perform pg_advisory_xact_lock(hashtextextended('iepgen:gemini_quota', 0));
  now_ts := clock_timestamp();
  delete from public.gemini_quota_grants g where g.at <= now_ts - span;
  if rpm is not null then
    select g.at + span into by_requests from public.gemini_quota_grants g
      order by g.at desc, g.id desc offset rpm - 1 limit 1;
  end if;
  if tpm is not null then
    select recent.at + span into by_tokens from (
      select g.at, sum(g.tokens) over (order by g.at desc, g.id desc) as used from public.gemini_quota_grants g
    ) recent
    where recent.used + least(tokens, tpm) > tpm
    order by recent.at desc limit 1;
  end if;
  slot := greatest(now_ts, by_requests, by_tokens);
  wait_ms := ceil(extract(epoch from slot - now_ts) * 1000)::int;
  granted := max_wait_ms is null or wait_ms <= max_wait_ms;
  if granted then
    insert into public.gemini_quota_grants (at, tokens) values (slot, tokens);
  end if;
end
$$;

grant execute on function iepgen_gemini_acquire(int, int, int, int, int) to iepgen_app;

-- Gemini call outcomes per minute, operation (embed, draft) and kind (ok, an error kind, transient,
-- quota_wait), summed by every process from its in-memory counts (flushed every few seconds).
create table gemini_call_stats (
  minute timestamptz not null,
  operation text not null,
  kind text not null,
  calls int not null check (calls >= 0),
  primary key (minute, operation, kind)
);
