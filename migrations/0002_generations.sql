-- IEP drafts and the generation jobs that write them, as the product sees them. graphile-worker
-- deletes finished jobs and stores no status, so these tables are the source of truth for clients.

create type iep_status as enum ('DRAFT', 'IN_REVIEW', 'FINAL');
create type generation_kind as enum ('FULL_IEP', 'SECTION');
create type generation_status as enum ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

create table generation_batches (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  requested_by uuid references users (id) on delete set null,
  total integer not null check (total > 0),
  created_at timestamptz not null default now(),
  unique (id, school_id)
);

create table ieps (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  student_id uuid not null,
  academic_year text not null check (academic_year ~ '^\d{4}-\d{4}$'),
  status iep_status not null default 'DRAFT',
  version integer not null check (version > 0),
  content jsonb not null,
  model text not null,
  generation_id uuid,
  created_at timestamptz not null default now(),
  foreign key (student_id, school_id) references students (id, school_id) on delete cascade,
  unique (student_id, academic_year, version),
  unique (id, school_id)
);

create table generations (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  student_id uuid not null,
  batch_id uuid,
  kind generation_kind not null,
  status generation_status not null default 'QUEUED',
  progress real not null default 0 check (progress between 0 and 1),
  stage text,
  message text,
  attempts integer not null default 0,
  max_attempts integer not null check (max_attempts > 0),
  error text,
  priority integer not null default 0,
  idempotency_key text check (length(idempotency_key) between 1 and 200),
  requested_by uuid references users (id) on delete set null,
  academic_year text not null check (academic_year ~ '^\d{4}-\d{4}$'),
  instructions text,
  section_kind text,
  base_iep_id uuid,
  iep_id uuid,
  last_seq integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  foreign key (student_id, school_id) references students (id, school_id) on delete cascade,
  foreign key (batch_id, school_id) references generation_batches (id, school_id) on delete cascade,
  foreign key (base_iep_id, school_id) references ieps (id, school_id) on delete cascade,
  foreign key (iep_id) references ieps (id) on delete set null,
  unique (id, school_id),
  check ((kind = 'SECTION') = (section_kind is not null and base_iep_id is not null))
);

alter table ieps add foreign key (generation_id) references generations (id) on delete set null;

create unique index generations_idempotency_idx on generations (requested_by, idempotency_key)
  where idempotency_key is not null;
create index generations_school_created_idx on generations (school_id, created_at, id);
create index generations_batch_idx on generations (batch_id) where batch_id is not null;
create index generations_queue_idx on generations (priority, created_at) where status = 'QUEUED';
create index generations_recent_durations_idx on generations (finished_at desc) where status = 'SUCCEEDED';
create index ieps_student_idx on ieps (student_id, academic_year, version desc);

create table generation_events (
  generation_id uuid not null references generations (id) on delete cascade,
  seq integer not null check (seq > 0),
  school_id uuid not null references schools (id) on delete cascade,
  status generation_status not null,
  progress real not null check (progress between 0 and 1),
  stage text,
  message text,
  created_at timestamptz not null default now(),
  primary key (generation_id, seq)
);
