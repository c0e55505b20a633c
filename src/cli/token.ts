import { signToken } from "../auth.ts";
import { createPool } from "../db/pool.ts";
import { findUser } from "../db/schools.ts";
import { durationSeconds, env } from "../env.ts";
import { isUuid } from "../ids.ts";
import { parseCliOptions } from "./args.ts";

/** `npm run token -- --user <id> [--expires 12h]`: prints a bearer token for an existing user (at most JWT_MAX_TTL). */
const usage = "npm run token -- --user <user id> [--expires 12h]";
const options = parseCliOptions({ user: { type: "string" }, expires: { type: "string" } }, usage);
if (!options.user || !isUuid(options.user)) {
  process.stderr.write(`--user must be a user id (a UUID, e.g. the userId printed by npm run seed -- --demo)\nusage: ${usage}\n`);
  process.exit(2);
}
const settings = env();
const lifetime = options.expires === undefined ? settings.JWT_MAX_TTL : durationSeconds(options.expires);
if (lifetime === undefined || lifetime < 1 || lifetime > settings.JWT_MAX_TTL) {
  process.stderr.write(`--expires must be a duration like 3600, 90m or 12h, at most JWT_MAX_TTL (${settings.JWT_MAX_TTL} s): the API refuses longer tokens\nusage: ${usage}\n`);
  process.exit(2);
}
const pool = createPool(settings.DATABASE_URL, 2);
try {
  const user = await findUser(pool, options.user);
  if (!user) {
    process.stderr.write(`no user ${options.user} in ${settings.DATABASE_URL}\n`);
    process.exitCode = 1;
  } else {
    const token = await signToken({ userId: user.id, schoolId: user.school_id, role: user.role }, settings.JWT_SECRET, `${lifetime}s`);
    process.stdout.write(`${token}\n`);
  }
} finally {
  await pool.end();
}
