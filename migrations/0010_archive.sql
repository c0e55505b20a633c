-- Archiving: finished generations older than the retention keep their row as a summary (status,
-- attempts, timings, error, the IEP they saved) with `archived_at` set; their events and transient
-- data (instructions) are removed. IEPs are never deleted.

alter table generations add column archived_at timestamptz;

-- The rows the daily cleanup looks for: finished, not yet archived, by age.
create index generations_archivable_idx on generations (finished_at)
  where archived_at is null and status in ('SUCCEEDED', 'FAILED', 'CANCELLED');
