-- File evidence (README "Evidence files"): a document may be an uploaded file (PDF, DOCX, PNG,
-- JPEG, TIFF, plain text) instead of typed text. The evidence row carries the file's metadata, its
-- extraction progress and, once extracted, its text in `body`; the original bytes live in
-- evidence_files (one row per file document, same tenant, under row-level security), served only
-- through the signed download route. Chunks of a paged document keep the page they came from.

create type evidence_stage as enum ('EXTRACTING', 'EMBEDDING');

alter table evidence
  add column file_name text check (length(file_name) between 1 and 255),
  add column file_media_type text check (file_media_type in (
    'application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'image/png', 'image/jpeg', 'image/tiff', 'text/plain')),
  add column file_byte_size integer check (file_byte_size > 0),
  add column file_sha256 text check (file_sha256 ~ '^[0-9a-f]{64}$'),
  add column page_count integer check (page_count >= 0),
  add column pages_done integer not null default 0 check (pages_done >= 0),
  add column stage evidence_stage,
  add constraint evidence_file_complete check (
    (file_name is null) = (file_media_type is null)
    and (file_name is null) = (file_byte_size is null)
    and (file_name is null) = (file_sha256 is null)),
  drop constraint evidence_body_check,
  -- Typed evidence has text from the start; a file's text arrives with its extraction.
  add constraint evidence_body_check check (length(btrim(body)) > 0 or file_name is not null),
  add constraint evidence_stage_pending check (stage is null or status = 'PENDING');

create table evidence_files (
  evidence_id uuid primary key,
  school_id uuid not null references schools (id) on delete cascade,
  content bytea not null,
  -- The text read from it, page by page ([{"page": 1, "text": "…"}]), once read: a later attempt
  -- (after a Gemini outage while embedding) reuses it instead of reading the file again.
  extracted_pages jsonb check (jsonb_typeof(extracted_pages) = 'array'),
  foreign key (evidence_id, school_id) references evidence (id, school_id) on delete cascade
);
-- Uploads are mostly compressed already (PDF streams, DOCX zips, images): store them as they are.
alter table evidence_files alter column content set storage external;

alter table evidence_files enable row level security;
create policy tenant_isolation on evidence_files
  using (school_id = iepgen_current_school()) with check (school_id = iepgen_current_school());

alter table evidence_chunks add column page integer check (page >= 1);

-- Downloading an evidence file is audited (EXPORTED), like printing an IEP.
alter type audit_resource add value if not exists 'EVIDENCE';
