/**
 * Keeps keys out of logs, journals and error messages. `AzureKeyCredential` sends the key twice
 * (`api-key` and `Authorization: Bearer`), and some services echo parts of a request back in
 * their error bodies, so both headers and free text need masking.
 */

/** What a masked value is replaced with. */
export const REDACTED = "[REDACTED]";

/** Header names (lower case) whose values are credentials. */
const SECRET_HEADERS = new Set(["api-key", "authorization", "ocp-apim-subscription-key"]);

/**
 * Replaces every occurrence of each non-empty secret in `text` with `[REDACTED]`.
 * Longer secrets are replaced first so that a secret containing another is masked whole.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const ordered = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of ordered) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * Returns a copy of `headers` with credential headers (`api-key`, `authorization`,
 * `ocp-apim-subscription-key`, matched case-insensitively) masked. Other headers are kept as-is.
 */
export function redactHeaders<V extends string | string[] | number | undefined>(
  headers: Readonly<Record<string, V>>,
): Record<string, V | typeof REDACTED> {
  const out: Record<string, V | typeof REDACTED> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) && value !== undefined ? REDACTED : value;
  }
  return out;
}

/**
 * An endpoint as it may be shown or stored: no user info and no query parameters but api-version
 * (SAS tokens and keys sometimes ride in URLs). Used for run.json, report.json and report.html.
 */
export function publicEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint.replace(/\/\/[^/@]*@/, "//").replace(/\?.*$/, "");
  }
  url.username = "";
  url.password = "";
  for (const key of [...url.searchParams.keys()]) if (key !== "api-version") url.searchParams.delete(key);
  return url.toString();
}
