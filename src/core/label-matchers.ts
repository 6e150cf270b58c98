/**
 * Equality label matchers as people read and type them: `env="prod", service="api"`. Values are
 * escaped the way Alertmanager prints matchers (OpenMetrics: `\\`, `\"`, `\n`), so what Vigil shows
 * can be pasted into amtool or Alertmanager's UI. Parsing is strict: only `name="value"` pairs,
 * comma-separated, so a typo never turns into a silence wider than meant.
 */

/** Prometheus' label names. */
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
export const MAX_MATCHERS = 20;
const ESCAPED: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };
const SHAPE = 'write name="value" pairs separated by commas';

export type ParsedMatchers = { ok: true; labels: Array<[string, string]> } | { ok: false; message: string };

/** `{ env: 'prod' }` → `env="prod"`, in the given order; names must be label names (alertname is a parameter of its own). */
export function formatMatchers(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
    .join(', ');
}

/** `env="prod", service="api"` → its pairs in order; empty text is no matchers. */
export function parseMatchers(text: string): ParsedMatchers {
  const fail = (why: string): ParsedMatchers => ({ ok: false, message: `${why}; ${SHAPE}` });
  const labels: Array<[string, string]> = [];
  let i = 0;
  const spaces = () => {
    while (text[i] === ' ') i++;
  };
  spaces();
  while (i < text.length) {
    LABEL_NAME.lastIndex = i;
    const name = LABEL_NAME.exec(text)?.[0];
    if (!name) return fail(`expected a label name at character ${i + 1}`);
    i += name.length;
    spaces();
    if (text.startsWith('!=', i) || text.startsWith('=~', i) || text.startsWith('!~', i)) return fail(`${name}: only equality (=) matchers are allowed`);
    if (text[i] !== '=') return fail(`expected = after ${name}`);
    i++;
    spaces();
    if (text[i] !== '"') return fail(`the value of ${name} must be in double quotes`);
    let value = '';
    for (i++; text[i] !== '"'; i++) {
      const c = text[i];
      if (c === undefined) return fail(`the value of ${name} has no closing quote`);
      if (c === '\n') return fail(`the value of ${name} has a line break; write it as \\n`);
      if (c === '\\') {
        const escaped = ESCAPED[text[++i] ?? ''];
        if (escaped === undefined) return fail(`the value of ${name} has an unknown escape at character ${i}; only \\\\, \\" and \\n are escapes`);
        value += escaped;
      } else {
        value += c;
      }
    }
    i++;
    labels.push([name, value]);
    spaces();
    if (i < text.length) {
      if (text[i] !== ',') return fail(`expected a comma after ${name}="…" at character ${i + 1}`);
      i++;
      spaces();
      if (i === text.length) return fail('nothing after the last comma');
    }
  }
  const names = labels.map(([name]) => name);
  if (names.includes('alertname')) return { ok: false, message: 'alertname is a parameter of its own; leave it out of the matchers' };
  const twice = names.find((name, k) => names.indexOf(name) !== k);
  if (twice) return { ok: false, message: `${twice} appears twice; each label may be matched once` };
  if (labels.length > MAX_MATCHERS) return { ok: false, message: `at most ${MAX_MATCHERS} matchers (got ${labels.length})` };
  return { ok: true, labels };
}
