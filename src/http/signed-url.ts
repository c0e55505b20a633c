/**
 * Signed, short-lived URLs: a link that authorises one GET of one path for one user, for places a
 * bearer header cannot go (a browser tab opened for printing, a download link). The query carries
 * the user, the expiry and an HMAC-SHA256 over (path, user, expiry) with a key derived from the
 * JWT secret; changing any of them, or another path, breaks the signature. Whoever follows the
 * link acts as that user, and the route still applies that user's current role and caseload.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { isUuid } from "../ids.ts";

const PARAMS = { user: "user", expires: "expires", signature: "signature" } as const;
/** Domain separation: this key signs nothing but URLs. */
const KEY_LABEL = "iepgen signed-url v1";
/** The longest lifetime a signature may claim, whatever the caller asks for. */
export const MAX_SIGNED_URL_TTL_MS = 60 * 60 * 1000;

/** Why a signed URL is refused: no signature at all, past its expiry, or anything else wrong. */
export type SignedUrlFailure = "missing" | "expired" | "invalid";

export type SignedUrlCheck = { ok: true; userId: string; expiresAt: number } | { ok: false; reason: SignedUrlFailure };

function signature(path: string, userId: string, expires: string, secret: string): Buffer {
  const key = createHmac("sha256", secret).update(KEY_LABEL).digest();
  return createHmac("sha256", key).update(`${path}\n${userId}\n${expires}`).digest();
}

/**
 * `path` with a query that authorises `userId` to GET it until `ttlMs` from `now` (at most
 * MAX_SIGNED_URL_TTL_MS): a relative URL such as `/ieps/<id>/print?user=…&expires=…&signature=…`.
 */
export function signPath(path: string, userId: string, secret: string, ttlMs: number, now = Date.now()): string {
  const expires = String(Math.floor((now + Math.min(ttlMs, MAX_SIGNED_URL_TTL_MS)) / 1000));
  const query = new URLSearchParams({
    [PARAMS.user]: userId, [PARAMS.expires]: expires, [PARAMS.signature]: signature(path, userId, expires, secret).toString("base64url"),
  });
  return `${path}?${query}`;
}

/** Checks a request URL's signature for its own path (constant-time comparison); returns the user it authorises. */
export function verifySignedUrl(url: URL, secret: string, now = Date.now()): SignedUrlCheck {
  const [userId, expires, given] = [PARAMS.user, PARAMS.expires, PARAMS.signature].map((name) => url.searchParams.get(name));
  if (!userId && !expires && !given) return { ok: false, reason: "missing" };
  if (!userId || !isUuid(userId) || !expires || !/^\d{1,12}$/.test(expires) || !given) return { ok: false, reason: "invalid" };
  const expected = signature(url.pathname, userId, expires, secret);
  const actual = Buffer.from(given, "base64url");
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { ok: false, reason: "invalid" };
  const expiresAt = Number(expires) * 1000;
  if (expiresAt <= now) return { ok: false, reason: "expired" };
  if (expiresAt > now + MAX_SIGNED_URL_TTL_MS + 1000) return { ok: false, reason: "invalid" };
  return { ok: true, userId, expiresAt };
}

/** Whether a URL carries any of the signed-URL parameters (then it is judged as a signed URL). */
export function hasSignature(url: URL): boolean {
  return Object.values(PARAMS).some((name) => url.searchParams.has(name));
}
