-- Caseloads: which students a TEACHER or CASE_MANAGER may see and draft for (an ADMIN sees the
-- whole school). Both ends reference (id, school_id), so an assignment can never join a user of
-- one school to a student of another.

create table student_assignments (
  school_id uuid not null references schools (id) on delete cascade,
  user_id uuid not null,
  student_id uuid not null,
  assigned_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (user_id, student_id),
  foreign key (user_id, school_id) references users (id, school_id) on delete cascade,
  foreign key (student_id, school_id) references students (id, school_id) on delete cascade
);

create index student_assignments_student_idx on student_assignments (student_id);
