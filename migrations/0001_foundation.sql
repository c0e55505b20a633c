-- Foundation: tenants (schools), users, students, evidence and its embedded chunks.
-- Every tenant row carries school_id; child rows reference (id, school_id) so a row can never
-- point at another school's parent.

create extension if not exists vector;

create table schools (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 200),
  created_at timestamptz not null default now()
);

create type user_role as enum ('TEACHER', 'CASE_MANAGER', 'ADMIN');

create table users (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  email text not null check (email like '%_@_%'),
  name text not null check (length(btrim(name)) between 1 and 200),
  role user_role not null,
  created_at timestamptz not null default now(),
  unique (school_id, email),
  unique (id, school_id)
);

create type disability_category as enum (
  'AUTISM', 'DEAF_BLINDNESS', 'DEAFNESS', 'DEVELOPMENTAL_DELAY', 'EMOTIONAL_DISTURBANCE',
  'HEARING_IMPAIRMENT', 'INTELLECTUAL_DISABILITY', 'MULTIPLE_DISABILITIES', 'ORTHOPEDIC_IMPAIRMENT',
  'OTHER_HEALTH_IMPAIRMENT', 'SPECIFIC_LEARNING_DISABILITY', 'SPEECH_OR_LANGUAGE_IMPAIRMENT',
  'TRAUMATIC_BRAIN_INJURY', 'VISUAL_IMPAIRMENT'
);

create table students (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  first_name text not null check (length(btrim(first_name)) between 1 and 100),
  last_name text not null check (length(btrim(last_name)) between 1 and 100),
  date_of_birth date not null,
  grade text not null check (grade in ('PK', 'K', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12')),
  disability_categories disability_category[] not null default '{}',
  primary_language text not null default 'English',
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, school_id)
);

create index students_school_page_idx on students (school_id, created_at, id);

create type evidence_kind as enum (
  'EVALUATION', 'PRIOR_IEP', 'PROGRESS_NOTE', 'TEACHER_OBSERVATION', 'PARENT_INPUT', 'ASSESSMENT', 'OTHER'
);
create type evidence_status as enum ('PENDING', 'READY', 'FAILED');

create table evidence (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  student_id uuid not null,
  kind evidence_kind not null,
  title text not null check (length(btrim(title)) between 1 and 300),
  body text not null check (length(btrim(body)) > 0),
  status evidence_status not null default 'PENDING',
  error text,
  chunk_count integer not null default 0,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (student_id, school_id) references students (id, school_id) on delete cascade,
  unique (id, school_id)
);

create index evidence_student_idx on evidence (student_id, created_at);

create table evidence_chunks (
  id uuid primary key default gen_random_uuid(),
  school_id uuid not null references schools (id) on delete cascade,
  student_id uuid not null references students (id) on delete cascade,
  evidence_id uuid not null,
  ordinal integer not null check (ordinal >= 0),
  text text not null,
  tsv tsvector generated always as (to_tsvector('english', text)) stored,
  embedding vector(768) not null,
  created_at timestamptz not null default now(),
  foreign key (evidence_id, school_id) references evidence (id, school_id) on delete cascade,
  unique (evidence_id, ordinal)
);

create index evidence_chunks_embedding_hnsw_idx on evidence_chunks using hnsw (embedding vector_cosine_ops);
create index evidence_chunks_tsv_idx on evidence_chunks using gin (tsv);
create index evidence_chunks_student_idx on evidence_chunks (student_id);
