import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { UserRole } from "./db/schools.ts";
import { DEFAULT_SECURITY, type SecurityConfig } from "./security.ts";

const ISSUER = "iepgen";
const AUDIENCE = "iepgen-api";
/** Algorithms accepted from the identity provider behind `security.jwt.jwksUrl`. */
const JWKS_ALGORITHMS = ["RS256", "ES256"];
/** How far in the future an `iat` may be (clock skew between iepgen and the token's issuer). */
const IAT_SKEW_SECONDS = 60;

const Claims = z.object({ sub: z.uuid(), school_id: z.uuid(), role: UserRole });
const JwksClaims = z.object({ sub: z.uuid() });

/** Who is calling: taken from a verified bearer token. Every query is scoped to `schoolId`. */
export interface Viewer {
  userId: string;
  schoolId: string;
  role: UserRole;
}

/** An authenticated caller and when its token stops being valid (ms since the epoch). */
export interface Session {
  viewer: Viewer;
  expiresAt: number;
}

/**
 * A verified token. iepgen's own HS256 tokens name the user, school and role; an identity
 * provider's token (JWKS) names only the user (`sub` = iepgen user id): school and role then come
 * from the users table.
 */
export interface VerifiedToken {
  userId: string;
  schoolId?: string;
  role?: UserRole;
  expiresAt: number;
}

/** Why a caller is refused; each becomes `extensions.reason` and a WebSocket close reason. */
export type AuthFailure = "missing-token" | "invalid-token" | "token-expired" | "user-removed";

/** A token that is not acceptable: `reason` says whether it is malformed/forged or merely expired. */
export class TokenError extends Error {
  readonly reason: "invalid-token" | "token-expired";

  constructor(reason: "invalid-token" | "token-expired", message: string) {
    super(message);
    this.name = "TokenError";
    this.reason = reason;
  }
}

/** Signs an HS256 bearer token for a user (sub = user id, school_id, role) with iat and exp. */
export async function signToken(viewer: Viewer, secret: string, expiresIn: string | number = "12h"): Promise<string> {
  return new SignJWT({ school_id: viewer.schoolId, role: viewer.role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(viewer.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** Verifies one of iepgen's own tokens (signature, issuer, audience, exp, lifetime, claims); throws on any mismatch. */
export async function verifyToken(token: string, secret: string, maxTtlSeconds = DEFAULT_SECURITY.jwt.maxTtlSeconds): Promise<Viewer> {
  const { userId, schoolId, role } = await verifyIepgenToken(token, secret, maxTtlSeconds);
  return { userId, schoolId: schoolId!, role: role! };
}

/**
 * Verifies a bearer token: HS256 with iepgen's secret, or (when `jwt.jwksUrl` is set) RS256/ES256
 * against the identity provider's keys with its issuer and audience. Every token needs `iat` and
 * `exp`, with `exp - iat` at most `jwt.maxTtlSeconds`. Throws TokenError.
 */
export async function verifyBearer(token: string, secret: string, jwt: SecurityConfig["jwt"]): Promise<VerifiedToken> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new TokenError("invalid-token", "The token is not a JWT");
  }
  if (alg === "HS256") return verifyIepgenToken(token, secret, jwt.maxTtlSeconds);
  if (jwt.jwksUrl && alg && JWKS_ALGORITHMS.includes(alg)) return verifyProviderToken(token, jwt);
  throw new TokenError("invalid-token", `Tokens signed with ${alg ?? "no algorithm"} are not accepted`);
}

/** Throws at startup when a JWKS provider is configured without the issuer and audience that pin its tokens to iepgen. */
export function checkJwtConfig(jwt: SecurityConfig["jwt"]): void {
  if (jwt.jwksUrl && (!jwt.issuer || !jwt.audience)) {
    throw new Error("JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: without them any token of that provider would be accepted");
  }
}

async function verifyIepgenToken(token: string, secret: string, maxTtlSeconds: number): Promise<VerifiedToken> {
  const payload = await verified(() => jwtVerify(token, new TextEncoder().encode(secret), {
    issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"], requiredClaims: ["exp", "iat"],
  }));
  const claims = Claims.safeParse(payload);
  if (!claims.success) throw new TokenError("invalid-token", "The token's claims are invalid");
  return { userId: claims.data.sub, schoolId: claims.data.school_id, role: claims.data.role, expiresAt: lifetime(payload, maxTtlSeconds) };
}

async function verifyProviderToken(token: string, jwt: SecurityConfig["jwt"]): Promise<VerifiedToken> {
  checkJwtConfig(jwt);
  const payload = await verified(() => jwtVerify(token, remoteKeys(jwt.jwksUrl!), {
    issuer: jwt.issuer, audience: jwt.audience, algorithms: JWKS_ALGORITHMS, requiredClaims: ["exp", "iat", "sub"],
  }));
  const claims = JwksClaims.safeParse(payload);
  if (!claims.success) throw new TokenError("invalid-token", "The token's subject is not an iepgen user id");
  return { userId: claims.data.sub, expiresAt: lifetime(payload, jwt.maxTtlSeconds) };
}

/** Runs a jose verification, turning its errors into TokenError (expired vs everything else). */
async function verified(verify: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
  try {
    return (await verify()).payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new TokenError("token-expired", "The token has expired");
    throw new TokenError("invalid-token", error instanceof Error ? error.message : "The token is invalid");
  }
}

/** Checks `exp - iat` against the longest lifetime accepted (and that iat is not in the future); returns exp in ms. */
function lifetime(payload: JWTPayload, maxTtlSeconds: number): number {
  const { iat, exp } = payload as { iat: number; exp: number };
  if (iat > Date.now() / 1000 + IAT_SKEW_SECONDS) throw new TokenError("invalid-token", "The token was issued in the future");
  if (exp - iat > maxTtlSeconds) {
    throw new TokenError("invalid-token", `The token lives ${exp - iat} s, longer than the ${maxTtlSeconds} s accepted`);
  }
  return exp * 1000;
}

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** One cached key set per JWKS URL (jose refetches it when a token names an unknown key). */
function remoteKeys(url: string): ReturnType<typeof createRemoteJWKSet> {
  let keys = keySets.get(url);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(url));
    keySets.set(url, keys);
  }
  return keys;
}

/** The token in an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}

/** The `authorization` entry of graphql-ws connectionParams, whatever its case (`Authorization` too). */
export function connectionAuthorization(params: Record<string, unknown> | undefined): string | undefined {
  const key = Object.keys(params ?? {}).find((name) => name.toLowerCase() === "authorization");
  const value = key ? params![key] : undefined;
  return typeof value === "string" ? value : undefined;
}
