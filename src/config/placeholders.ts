/**
 * Values that only say "put yours here": `xoxb-your_bot_token`, `your-signing-secret`, `changeme`,
 * `<token>`, `xoxb-…`, URLs on the documentation domains (`db.example.com`). `.env.example` ships
 * such values, so a copied `.env` must start as if they were unset instead of failing validation
 * or, worse, passing it and trying them. Real tokens and secrets are random: they never contain
 * one of these words as a whole `-`/`_`/`.`/`:`-separated part.
 */
const PLACEHOLDER_WORD = /(^|[^a-z0-9])(your|replace|replace[-_]?me|change[-_]?me|placeholder|example|xxx+|todo|fixme)([^a-z0-9]|$)/i;
const ANGLE_BRACKETS = /^<[^>]*>$/;
const ELLIPSIS = /\.\.\.|…/;

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_WORD.test(value) || ANGLE_BRACKETS.test(value.trim()) || ELLIPSIS.test(value);
}

/** `env` without the placeholder values of `keys` (Vigil's own variables), and which were dropped. */
export function dropPlaceholders(env: Record<string, string>, keys: readonly string[]): { env: Record<string, string>; dropped: string[] } {
  const out = { ...env };
  const dropped: string[] = [];
  for (const key of keys) {
    const value = out[key];
    if (value !== undefined && isPlaceholder(value)) {
      delete out[key];
      dropped.push(key);
    }
  }
  return { env: out, dropped };
}
