/**
 * A URL safe to show anywhere (start-up lines, /health, logs): the password is masked, and the
 * query and fragment, which often carry tokens, are hidden behind a marker. The user name stays:
 * "which role" is what an on-call engineer needs to know. The one URL-redaction function; free
 * text (an error message quoting a URL) goes through `scrubSecrets` instead.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(unparseable URL)';
  }
  if (url.password) url.password = '***';
  const hidden = url.search !== '' || url.hash !== '';
  url.search = '';
  url.hash = '';
  // Appended after serialising: the `search` setter would percent-encode the ellipsis.
  return hidden ? `${url.toString()}?…` : url.toString();
}
