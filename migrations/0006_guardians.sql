-- Guardians on the student record: [{ "name", "relationship", "email"?, "phone"?, "address"? }].
-- They are part of the record so that their names and contact details can be replaced by
-- placeholders before any text about the student is sent to Gemini (src/privacy/).

alter table students add column guardians jsonb not null default '[]'::jsonb
  check (jsonb_typeof(guardians) = 'array' and jsonb_array_length(guardians) <= 10);
