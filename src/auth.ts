import { SignJWT, jwtVerify } from "jose";
import { z } from "zod";
import { UserRole } from "./db/schools.ts";

const ISSUER = "iepgen";
const AUDIENCE = "iepgen-api";

const Claims = z.object({ sub: z.uuid(), school_id: z.uuid(), role: UserRole });

/** Who is calling: taken from a verified bearer token. Every query is scoped to `schoolId`. */
export interface Viewer {
  userId: string;
  schoolId: string;
  role: UserRole;
}

/** Signs an HS256 bearer token for a user (sub = user id, school_id, role). */
export async function signToken(viewer: Viewer, secret: string, expiresIn = "12h"): Promise<string> {
  return new SignJWT({ school_id: viewer.schoolId, role: viewer.role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(viewer.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** Verifies a token's signature, issuer, audience, expiry and claims; throws on any mismatch. */
export async function verifyToken(token: string, secret: string): Promise<Viewer> {
  const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["HS256"],
  });
  const claims = Claims.parse(payload);
  return { userId: claims.sub, schoolId: claims.school_id, role: claims.role };
}

/** The token in an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}
