const KEY = "iepgen.token";

/** The signed-in user's token: sessionStorage (this tab), or localStorage when "remember" was ticked. */
export function storedToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

/** Keeps a token (a bare JWT; a pasted "Bearer …" prefix is dropped). */
export function storeToken(token: string, remember: boolean): string {
  const bare = token.trim().replace(/^Bearer\s+/i, "");
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, bare);
  return bare;
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
