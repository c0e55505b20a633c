import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareDatabase } from "../src/db/setup.ts";
import { createLogger } from "../src/logger.ts";
import { adminQuery, emptyTestDatabase, queryDatabase, type TestDatabase } from "./helpers/database.ts";

const TABLES = ["schools", "users", "students", "evidence", "evidence_chunks"];
const TENANT_TABLES = ["users", "students", "evidence", "evidence_chunks"];
/** Every migration file, by the name node-pg-migrate records (file name without extension). */
const MIGRATION_NAMES = readdirSync(fileURLToPath(new URL("../migrations", import.meta.url)))
  .filter((file) => /\.(sql|js|ts)$/.test(file))
  .map((file) => file.replace(/\.(sql|js|ts)$/, ""))
  .sort();

const logger = createLogger("silent", "stderr");
const databases: TestDatabase[] = [];

function fresh(): TestDatabase {
  const db = emptyTestDatabase();
  databases.push(db);
  return db;
}


async function databaseExists(name: string): Promise<boolean> {
  return (await adminQuery("select 1 from pg_database where datname = $1", [name])).length === 1;
}

async function migrationRows(url: string): Promise<{ name: string; run_on: Date }[]> {
  return queryDatabase(url, "select name, run_on from pgmigrations order by id");
}

afterAll(async () => {
  for (const db of databases) await db.drop();
  for (const db of databases) expect(await databaseExists(db.name)).toBe(false);
});

describe("prepareDatabase on a database that does not exist", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = fresh();
    expect(await databaseExists(db.name)).toBe(false);
    await prepareDatabase(db.url, logger);
  });

  it("creates the database", async () => {
    expect(await databaseExists(db.name)).toBe(true);
  });

  it("installs the vector extension", async () => {
    const rows = await queryDatabase<{ extname: string }>(db.url, "select extname from pg_extension where extname = 'vector'");
    expect(rows).toHaveLength(1);
    // The extension actually works: 768-dimension vectors and the cosine operator.
    const [row] = await queryDatabase<{ distance: number }>(
      db.url,
      "select (array_fill(1::real, array[768])::vector(768) <=> array_fill(1::real, array[768])::vector(768)) as distance",
    );
    expect(row?.distance).toBeCloseTo(0, 6);
  });

  it("creates every table in the public schema", async () => {
    const rows = await queryDatabase<{ table_name: string }>(
      db.url,
      "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
    );
    const names = rows.map((row) => row.table_name);
    for (const table of [...TABLES, "pgmigrations"]) expect(names).toContain(table);
  });

  it("installs graphile-worker's schema", async () => {
    const rows = await queryDatabase<{ proname: string }>(
      db.url,
      `select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'graphile_worker' and p.proname = 'add_job'`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    // and it is usable: a job can be queued.
    const [job] = await queryDatabase<{ id: string }>(db.url, "select (graphile_worker.add_job('migrations-test-task', '{}'::json)).id::text as id");
    expect(job?.id).toMatch(/^\d+$/);
  });

  it("records every migration exactly once in pgmigrations", async () => {
    expect(MIGRATION_NAMES.length).toBeGreaterThan(0);
    const rows = await migrationRows(db.url);
    expect(rows.map((row) => row.name)).toEqual(MIGRATION_NAMES);
  });

  it("is a no-op when run again", async () => {
    const before = await migrationRows(db.url);
    await expect(prepareDatabase(db.url, logger)).resolves.toBeUndefined();
    const after = await migrationRows(db.url);
    expect(after).toEqual(before);
  });
});

describe("concurrent prepareDatabase calls on one fresh database", () => {
  it("all succeed and apply each migration once", async () => {
    const db = fresh();
    const results = await Promise.allSettled([prepareDatabase(db.url, logger), prepareDatabase(db.url, logger), prepareDatabase(db.url, logger)]);
    for (const result of results) {
      expect(result.status === "rejected" ? String(result.reason) : "fulfilled").toBe("fulfilled");
    }
    expect(await databaseExists(db.name)).toBe(true);
    const rows = await migrationRows(db.url);
    expect(rows.map((row) => row.name)).toEqual(MIGRATION_NAMES);
    const graphile = await queryDatabase(db.url, "select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'graphile_worker' and p.proname = 'add_job'");
    expect(graphile.length).toBeGreaterThanOrEqual(1);
  });
});

describe("schema integrity", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = fresh();
    await prepareDatabase(db.url, logger);
  });

  it("gives every foreign key in the public schema an ON DELETE action", async () => {
    const rows = await queryDatabase<{ conname: string; table: string; confdeltype: string }>(
      db.url,
      `select conname, conrelid::regclass::text as table, confdeltype
         from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(TENANT_TABLES.length);
    // 'a' = NO ACTION (the default when ON DELETE is omitted).
    const withoutAction = rows.filter((row) => row.confdeltype === "a").map((row) => `${row.table}.${row.conname}`);
    expect(withoutAction).toEqual([]);
  });

  it("gives every tenant table a NOT NULL school_id referencing schools", async () => {
    const rows = await queryDatabase<{ table_name: string; is_nullable: string; data_type: string }>(
      db.url,
      `select table_name, is_nullable, data_type from information_schema.columns
        where table_schema = 'public' and column_name = 'school_id'`,
    );
    for (const table of TENANT_TABLES) {
      const column = rows.find((row) => row.table_name === table);
      expect(column, `${table}.school_id`).toBeDefined();
      expect(column?.is_nullable, `${table}.school_id nullable`).toBe("NO");
      expect(column?.data_type).toBe("uuid");
    }
  });

  it("deletes a school's users, students, evidence and chunks with the school, and nothing else", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const seedSchool = async (name: string) => {
        const school = (await client.query<{ id: string }>("insert into schools (name) values ($1) returning id", [name])).rows[0]!.id;
        const user = (await client.query<{ id: string }>(
          "insert into users (school_id, email, name, role) values ($1, $2, 'Case Manager', 'CASE_MANAGER') returning id",
          [school, `cm-${school}@example.org`],
        )).rows[0]!.id;
        const student = (await client.query<{ id: string }>(
          `insert into students (school_id, first_name, last_name, date_of_birth, grade, created_by)
           values ($1, 'Test', 'Student', '2015-01-01', '5', $2) returning id`,
          [school, user],
        )).rows[0]!.id;
        const evidence = (await client.query<{ id: string }>(
          `insert into evidence (school_id, student_id, kind, title, body, status, chunk_count, created_by)
           values ($1, $2, 'PROGRESS_NOTE', 'Note', 'Reads 40 words per minute.', 'READY', 1, $3) returning id`,
          [school, student, user],
        )).rows[0]!.id;
        await client.query(
          `insert into evidence_chunks (school_id, student_id, evidence_id, ordinal, text, embedding)
           values ($1, $2, $3, 0, 'Reads 40 words per minute.', array_fill(0.1::real, array[768])::vector)`,
          [school, student, evidence],
        );
        return school;
      };
      const doomed = await seedSchool("Doomed school");
      const kept = await seedSchool("Kept school");

      const counts = async (school: string) => {
        const out: Record<string, number> = {};
        for (const table of TENANT_TABLES) {
          out[table] = Number((await client.query(`select count(*)::int as n from ${table} where school_id = $1`, [school])).rows[0].n);
        }
        return out;
      };
      const one = Object.fromEntries(TENANT_TABLES.map((table) => [table, 1]));
      expect(await counts(doomed)).toEqual(one);

      const deleted = await client.query("delete from schools where id = $1", [doomed]);
      expect(deleted.rowCount).toBe(1);
      expect(await counts(doomed)).toEqual(Object.fromEntries(TENANT_TABLES.map((table) => [table, 0])));
      expect(await counts(kept)).toEqual(one);
    } finally {
      await client.end();
    }
  });
});
