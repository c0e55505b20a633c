-- IEP templates (README "Templates, dates and evidence choice"): a school keeps templates, each a
-- series of immutable versions (section order and labels, extra required items, default
-- instructions). One built-in template (school_id null) follows today's §300.320 structure; every
-- school reads it, none can change it. A generation records the template version it asked for (the
-- latest at request time) and its IEP dates and evidence kinds; its IEP records the same version and dates.

create table iep_templates (
  id uuid primary key default gen_random_uuid(),
  -- null: the built-in template, shared by every school and read-only.
  school_id uuid references schools (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 200),
  archived_at timestamptz,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, school_id)
);

create index iep_templates_school_idx on iep_templates (school_id, created_at, id);

create table iep_template_versions (
  id uuid primary key default gen_random_uuid(),
  template_id uuid not null references iep_templates (id) on delete cascade,
  school_id uuid references schools (id) on delete cascade,
  version integer not null check (version > 0),
  -- [{ "kind": "PRESENT_LEVELS", "label": "…" }, …]: every IepSectionKind once, in print order.
  sections jsonb not null check (jsonb_typeof(sections) = 'array'),
  -- [{ "key", "label", "description", "section" }]: state-specific fields the draft must fill in.
  extra_items jsonb not null default '[]' check (jsonb_typeof(extra_items) = 'array'),
  default_instructions text check (length(default_instructions) <= 2000),
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (template_id, version)
);

-- A version never changes once written: an IEP that used it keeps meaning what it meant.
create function iepgen_template_version_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'IEP template versions are immutable' using errcode = '55000';
end
$$;
create trigger iep_template_versions_immutable before update on iep_template_versions
  for each row execute function iepgen_template_version_immutable();

-- The built-in template: §300.320 order and today's labels (src/iep/templates.ts DEFAULT_TEMPLATE).
insert into iep_templates (id, school_id, name)
values ('00000000-0000-4000-8000-000000000320', null, 'IDEA §300.320 (built-in)');
insert into iep_template_versions (id, template_id, school_id, version, sections, extra_items, default_instructions)
values ('00000000-0000-4000-8000-000000000321', '00000000-0000-4000-8000-000000000320', null, 1, '[
  {"kind": "PRESENT_LEVELS", "label": "Present levels of academic achievement and functional performance"},
  {"kind": "ANNUAL_GOALS", "label": "Measurable annual goals"},
  {"kind": "PROGRESS_REPORTING", "label": "Measuring and reporting progress"},
  {"kind": "SERVICES", "label": "Special education, related and supplementary services, modifications and supports"},
  {"kind": "LEAST_RESTRICTIVE_ENVIRONMENT", "label": "Least restrictive environment"},
  {"kind": "ASSESSMENT_PARTICIPATION", "label": "Participation in State and districtwide assessments"},
  {"kind": "TRANSITION", "label": "Postsecondary goals and transition services"},
  {"kind": "TRANSFER_OF_RIGHTS", "label": "Transfer of rights at the age of majority"}
]', '[]', null);

alter table generations
  add column template_version_id uuid references iep_template_versions (id) on delete set null,
  add column meeting_date date,
  add column effective_date date,
  add column annual_review_date date,
  -- null: every kind feeds retrieval.
  add column evidence_kinds evidence_kind[] check (cardinality(evidence_kinds) > 0),
  add check (effective_date >= meeting_date),
  add check (annual_review_date > effective_date and annual_review_date <= effective_date + interval '1 year');

alter table ieps
  add column template_version_id uuid references iep_template_versions (id) on delete set null,
  add column meeting_date date,
  add column effective_date date,
  add column annual_review_date date;

-- Row-level security: a school sees and writes its own templates; everyone reads the built-in one.
do $$
declare
  tenant_table text;
begin
  foreach tenant_table in array array['iep_templates', 'iep_template_versions'] loop
    execute format('alter table %I enable row level security', tenant_table);
    execute format(
      'create policy tenant_isolation on %I using (school_id = iepgen_current_school()) with check (school_id = iepgen_current_school())',
      tenant_table);
    execute format('create policy builtin_read on %I for select using (school_id is null)', tenant_table);
  end loop;
end
$$;
