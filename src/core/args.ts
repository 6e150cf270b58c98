import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { AppError } from './errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Split command text into words the way a shell would for the simple cases people type in Slack:
 * whitespace separates, single or double quotes group. Slack clients (macOS autocorrect) turn `--`
 * into an em or en dash, so a leading dash of that kind is read back as `--`.
 */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    const word = match[1] ?? match[2] ?? match[3] ?? '';
    words.push(word.replace(/^[\u2014\u2013](?=\S)/, '--'));
  }
  return words;
}

/**
 * Parse words against the command's declared options, then validate the result with its zod
 * schema. Any problem becomes a `bad_args` AppError whose message names what was wrong.
 */
export function parseCommandArgs<A>(words: string[], options: OptionSpec, schema: z.ZodType<A>): A {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: words, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new AppError('bad_args', cleanParseArgsMessage(err));
  }
  const result = schema.safeParse({ ...parsed.values, positionals: parsed.positionals });
  if (!result.success) {
    throw new AppError('bad_args', result.error.issues.map(formatIssue).join('; '));
  }
  return result.data;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.join('.');
  const where = path === '' ? '' : path === 'positionals' ? 'arguments: ' : `--${path}: `;
  return `${where}${issue.message}`;
}

/** Node's messages mention `parseArgs` internals and a hint about `--`; keep only the first sentence. */
function cleanParseArgsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('. ')[0]?.replace(/\.$/, '') ?? message;
}

/** Reusable pieces of argument schemas. */
export const argSchemas = {
  positiveInt: (max: number) =>
    z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(max, `must be at most ${max}`),
  nonNegative: (max: number) =>
    z.coerce.number({ error: 'must be a number' }).min(0, 'must not be negative').max(max, `must be at most ${max}`),
};
