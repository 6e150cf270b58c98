/** A connection URL safe to print: the password (and any token in the query) is removed. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    if (url.search) url.search = '';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
