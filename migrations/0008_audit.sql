-- An append-only log of who did what to which student's IEP or generation, and from which request.
-- No foreign keys: the log outlives the users and records it names. Rows can be added, never
-- changed or removed (a trigger refuses UPDATE and DELETE).

create type audit_action as enum ('REQUESTED', 'VIEWED', 'EDITED', 'APPROVED', 'CANCELLED', 'RETRIED', 'EXPORTED');
create type audit_resource as enum ('GENERATION', 'IEP');

create table audit_log (
  id bigint generated always as identity primary key,
  school_id uuid not null,
  user_id uuid,
  action audit_action not null,
  resource_type audit_resource not null,
  resource_id uuid not null,
  student_id uuid,
  request_id text check (length(request_id) <= 200),
  at timestamptz not null default now()
);

create index audit_log_school_idx on audit_log (school_id, id desc);
create index audit_log_student_idx on audit_log (school_id, student_id, id desc);

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_is_append_only();
