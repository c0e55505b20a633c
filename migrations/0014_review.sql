-- The review workflow (issue 9): an IEP moves DRAFT → IN_REVIEW → FINAL (src/lifecycle/iep.ts);
-- a FINAL version is immutable and editing it starts a new DRAFT version from it. Every edit of a
-- section is recorded (who, when, which JSON paths changed, before and after): that record is the
-- section's provenance; a section nobody edited keeps the provenance of the version it came from.

alter type audit_action add value if not exists 'SUBMITTED';

alter table ieps
  add column revision integer not null default 0,
  add column updated_at timestamptz not null default now(),
  add column submitted_at timestamptz,
  add column submitted_by uuid references users (id) on delete set null,
  add column approved_at timestamptz,
  add column approved_by uuid references users (id) on delete set null,
  -- The FINAL version an edit started this version from (null: drafted by a generation).
  add column based_on_iep_id uuid references ieps (id) on delete set null,
  -- The prompt version of the generation that drafted it; null for rows from before it was recorded.
  -- The generation's `succeed` statement stores src/iep/prompt-version.ts's PROMPT_VERSION; the
  -- default only fills rows written without naming it.
  add column prompt_version text;
alter table ieps alter column prompt_version set default 'iep-prompt-2026-11';

-- A FINAL version continues as at most one DRAFT: concurrent edits of it meet on the same one.
create unique index ieps_based_on_idx on ieps (based_on_iep_id) where based_on_iep_id is not null;

create table iep_section_edits (
  id bigint generated always as identity primary key,
  school_id uuid not null references schools (id) on delete cascade,
  iep_id uuid not null,
  section_kind text not null,
  edited_by uuid references users (id) on delete set null,
  edited_at timestamptz not null default now(),
  changed_paths text[] not null,
  before jsonb,
  after jsonb,
  request_id text check (length(request_id) <= 200),
  foreign key (iep_id, school_id) references ieps (id, school_id) on delete cascade
);

create index iep_section_edits_iep_idx on iep_section_edits (iep_id, section_kind, id desc);

alter table iep_section_edits enable row level security;
create policy tenant_isolation on iep_section_edits
  using (school_id = iepgen_current_school()) with check (school_id = iepgen_current_school());
