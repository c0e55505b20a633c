/**
 * Who is asking for a route that a browser may open without a bearer header (the print view, a
 * download): the bearer token when one is sent, else the signed URL (src/http/signed-url.ts),
 * whose user must still exist. Their role and caseload are then applied by the route.
 */
import type { Session, Viewer } from "../auth.ts";
import type { AppDeps } from "../context.ts";
import { findUser } from "../db/schools.ts";
import { hasSignature, verifySignedUrl } from "./signed-url.ts";

export type Authenticate = (deps: AppDeps, authorization: string | null) => Promise<Session>;

/** What a refused link says: `expired` names where a fresh link comes from. */
export interface LinkMessages {
  expired: string;
  invalid: string;
}

/** The caller, from the bearer header or else the signed query; a message for people when neither authorises. */
export async function linkViewer(deps: AppDeps, request: Request, url: URL, authenticate: Authenticate, messages: LinkMessages): Promise<Viewer | string> {
  const authorization = request.headers.get("authorization");
  if (authorization || !hasSignature(url)) {
    try {
      return (await authenticate(deps, authorization)).viewer;
    } catch (error) {
      return error instanceof Error ? error.message : "Authentication required";
    }
  }
  const signed = verifySignedUrl(url, deps.jwtSecret);
  if (!signed.ok) return signed.reason === "expired" ? messages.expired : messages.invalid;
  const user = await findUser(deps.pool, signed.userId);
  return user ? { userId: user.id, schoolId: user.school_id, role: user.role } : "The link's user no longer exists";
}
