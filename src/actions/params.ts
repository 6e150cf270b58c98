import { z } from 'zod';

/**
 * Parameters of a catalog action, as the YAML declares them, and the validation of the values a
 * requester gives. Four kinds, each closed: an `enum` of values from the config, a bounded
 * `integer`, a bounded `duration` (`30m`, `4h`, `1h30m`), and `text` — free text for a silence
 * comment or a reason, which may reach an HTTP body (JSON-escaped) or a built-in, never an argv
 * (refused at config load, see runner-config.ts). Values are checked whole: nothing is trimmed,
 * coerced loosely or partly accepted. A `text` may be `optional: true`: left out, it is absent
 * (never an empty string), so no template may name it.
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;
/** `{name}` in a template; JSON's `{"…` or `{ ` never matches, so JSON bodies need no escaping. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const DURATION = /^(?:\d{1,6}(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d)/g;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** `30s`, `5m`, `1h30m`, `2d` → milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  if (!DURATION.test(text)) return null;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(DURATION_PART)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return ms;
}

/** A duration in config (`timeout: 30s`, `max: 24h`), parsed to milliseconds. */
export const durationMs = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 30s, 15m, 4h or 1h30m` });
    return z.NEVER;
  }
  return ms;
});

const enumValue = z
  .string()
  .min(1)
  .max(200)
  .refine((v) => !CONTROL.test(v), 'enum values may not contain control characters or line breaks');

const common = { description: z.string().max(200).optional() };

const enumSpec = z.object({ enum: z.array(enumValue).min(1).max(100), default: z.string().optional(), ...common }).strict();
const integerSpec = z
  .object({
    integer: z.object({ min: z.number().int().safe(), max: z.number().int().safe() }).strict(),
    default: z.number().int().optional(),
    ...common,
  })
  .strict();
const durationSpec = z
  .object({
    duration: z.object({ max: z.string(), min: z.string().optional() }).strict(),
    default: z.string().optional(),
    ...common,
  })
  .strict();
const textSpec = z
  .object({
    text: z.object({ maxLength: z.number().int().min(1).max(2000), pattern: z.string().max(500).optional() }).strict(),
    default: z.string().optional(),
    /** May be left out; then it is absent from the values (a silence's further matchers). */
    optional: z.literal(true).optional(),
    ...common,
  })
  .strict();

/** One parameter's declaration: exactly one of `enum`, `integer`, `duration`, `text`. */
export const paramSpecSchema = z
  .union([enumSpec, integerSpec, durationSpec, textSpec], {
    error: () => 'a parameter is one of { enum: [..] }, { integer: { min, max } }, { duration: { max } } or { text: { maxLength } }',
  })
  .superRefine((spec, ctx) => {
    for (const problem of specProblems(spec)) ctx.addIssue({ code: 'custom', message: problem });
  });

export type ParamSpec = z.infer<typeof paramSpecSchema>;
export type ParamKind = 'enum' | 'integer' | 'duration' | 'text';
export type ParamValue = string | number;
export type ParamValues = Record<string, ParamValue>;

/** The `params:` map of an action; names are what templates write as `{name}`. */
export const paramsSpecSchema = z
  .record(z.string().regex(NAME, 'parameter names are letters, digits and _ (at most 40), starting with a letter'), paramSpecSchema)
  .refine((m) => Object.keys(m).length <= 20, 'at most 20 parameters');
export type ParamsSpec = z.infer<typeof paramsSpecSchema>;

/** Declared `optional: true`: may be left out, and is then absent from the values. */
export function isOptional(spec: ParamSpec): boolean {
  return 'text' in spec && spec.optional === true;
}

export function kindOf(spec: ParamSpec): ParamKind {
  if ('enum' in spec) return 'enum';
  if ('integer' in spec) return 'integer';
  if ('duration' in spec) return 'duration';
  return 'text';
}

function specProblems(spec: ParamSpec): string[] {
  const problems: string[] = [];
  if ('enum' in spec && new Set(spec.enum).size !== spec.enum.length) problems.push('enum values must be distinct');
  if ('integer' in spec && spec.integer.min > spec.integer.max) problems.push('integer min must not exceed max');
  if ('duration' in spec) {
    const max = parseDuration(spec.duration.max);
    const min = spec.duration.min === undefined ? 1000 : parseDuration(spec.duration.min);
    if (max === null || max <= 0) problems.push(`duration max "${spec.duration.max}" is not a duration like 30m or 24h`);
    if (min === null || min <= 0) problems.push(`duration min "${spec.duration.min}" is not a duration like 1m`);
    if (max !== null && min !== null && min > max) problems.push('duration min must not exceed max');
  }
  if ('text' in spec && spec.text.pattern !== undefined) {
    try {
      new RegExp(spec.text.pattern, 'u');
    } catch {
      problems.push(`text pattern ${JSON.stringify(spec.text.pattern)} is not a valid regular expression`);
    }
  }
  // A default would make it never absent: the two say different things.
  if ('text' in spec && spec.optional && spec.default !== undefined) problems.push('optional and default exclude each other: an optional parameter is absent when not given');
  if (problems.length === 0 && spec.default !== undefined) {
    const checked = checkValue('default', spec, spec.default);
    if (!checked.ok) problems.push(`default: ${checked.message}`);
  }
  return problems;
}

type Checked = { ok: true; value: ParamValue } | { ok: false; message: string };

/** A value as shown in an error: quoted, escaped (a newline shows as \n), cut short. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : typeof value;
  const cut = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return typeof value === 'string' ? JSON.stringify(cut) : cut;
}

/** What a parameter accepts, in words (for help and error messages). */
export function describeParam(spec: ParamSpec): string {
  const dflt = spec.default !== undefined ? ` (default ${spec.default})` : isOptional(spec) ? ' (optional)' : '';
  if ('enum' in spec) return `one of: ${spec.enum.join(', ')}${dflt}`;
  if ('integer' in spec) return `a whole number from ${spec.integer.min} to ${spec.integer.max}${dflt}`;
  if ('duration' in spec) return `a duration like 30m or 4h, at most ${spec.duration.max}${dflt}`;
  return `text, at most ${spec.text.maxLength} characters, one line${spec.text.pattern ? ` matching ${spec.text.pattern}` : ''}${dflt}`;
}

/** Check one value against its declaration; the message names the parameter and what it accepts. */
export function checkValue(name: string, spec: ParamSpec, value: unknown): Checked {
  const refuse = (why: string): Checked => ({ ok: false, message: `${name} ${why}` });
  if ('enum' in spec) {
    if (typeof value === 'string' && spec.enum.includes(value)) return { ok: true, value };
    return refuse(`must be one of: ${spec.enum.join(', ')} (got ${shown(value)})`);
  }
  if ('integer' in spec) {
    const { min, max } = spec.integer;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n)) return refuse(`must be a whole number from ${min} to ${max} (got ${shown(value)})`);
    if (n < min || n > max) return refuse(`must be from ${min} to ${max} (got ${n})`);
    return { ok: true, value: n };
  }
  if ('duration' in spec) {
    const ms = typeof value === 'string' ? parseDuration(value) : null;
    if (ms === null || ms <= 0) return refuse(`must be a duration like 30m, 4h or 1h30m (got ${shown(value)})`);
    const max = parseDuration(spec.duration.max) ?? 0;
    const min = spec.duration.min === undefined ? 1000 : (parseDuration(spec.duration.min) ?? 0);
    if (ms > max) return refuse(`may be at most ${spec.duration.max} (got ${value as string})`);
    if (ms < min) return refuse(`must be at least ${spec.duration.min ?? '1s'} (got ${value as string})`);
    return { ok: true, value: value as string };
  }
  if (typeof value !== 'string') return refuse(`must be text (got ${shown(value)})`);
  if (value.length === 0) return refuse('must not be empty');
  if (value.length > spec.text.maxLength) return refuse(`may be at most ${spec.text.maxLength} characters (got ${value.length})`);
  if (CONTROL.test(value)) return refuse('must be one line without control characters');
  if (spec.text.pattern !== undefined && !new RegExp(`^(?:${spec.text.pattern})$`, 'u').test(value)) {
    return refuse(`must match ${spec.text.pattern} (got ${shown(value)})`);
  }
  return { ok: true, value };
}

/**
 * The strict validator of an action's parameters: every declared parameter is required unless it
 * has a default or is optional (then left out of the result), unknown ones are refused, and each message names the parameter and what it
 * accepts. Integers may arrive as digit strings (a slash command's text) and come out as numbers.
 */
export function paramsSchemaFor(spec: ParamsSpec): z.ZodType<ParamValues> {
  const names = Object.keys(spec);
  const takes = names.length > 0 ? `this action takes: ${names.join(', ')}` : 'this action takes no parameters';
  return z.unknown().transform((input, ctx): ParamValues => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      ctx.addIssue({ code: 'custom', message: `parameters must be name=value pairs; ${takes}` });
      return z.NEVER;
    }
    const given = input as Record<string, unknown>;
    const out: ParamValues = {};
    const unknown = Object.keys(given).filter((k) => !Object.hasOwn(spec, k));
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', path: [unknown[0] as string], message: `unknown parameter ${unknown.map((k) => shown(k)).join(', ')}; ${takes}` });
    }
    for (const name of names) {
      const s = spec[name] as ParamSpec;
      const value = Object.hasOwn(given, name) ? given[name] : undefined;
      if (value === undefined) {
        if (isOptional(s)) continue;
        // Defaults were checked at config load; checking again normalises them (`"7"` → 7).
        const dflt = s.default === undefined ? null : checkValue(name, s, s.default);
        if (dflt?.ok) out[name] = dflt.value;
        else ctx.addIssue({ code: 'custom', path: [name], message: `missing parameter ${name}: ${describeParam(s)}` });
        continue;
      }
      const checked = checkValue(name, s, value);
      if (checked.ok) out[name] = checked.value;
      else ctx.addIssue({ code: 'custom', path: [name], message: checked.message });
    }
    return out;
  });
}

/** One sentence from a failed parameter parse: every problem, in declaration order. */
export function explainParamsError(err: z.ZodError): string {
  return err.issues.map((i) => i.message).join('; ');
}

/** `{name}` placeholders a template refers to, in order of first appearance. */
export function templateParams(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** Placeholders naming no declared parameter: a config error. */
export function undeclaredParams(template: string, spec: ParamsSpec): string[] {
  return templateParams(template).filter((name) => !Object.hasOwn(spec, name));
}

/** Placeholders naming an optional parameter: a config error, as it may have no value to fill in. */
export function optionalParams(template: string, spec: ParamsSpec): string[] {
  return templateParams(template).filter((name) => Object.hasOwn(spec, name) && isOptional(spec[name] as ParamSpec));
}

/**
 * Replace each `{name}` by `encode(value)`. The result is always one string: substituting inside
 * an argv element (`--unit={service}`) never splits it. A placeholder without a value throws,
 * which config validation makes unreachable.
 */
export function fillTemplate(template: string, values: ParamValues, encode: (value: ParamValue) => string = String): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`template parameter ${name} has no value`);
    return encode(values[name] as ParamValue);
  });
}

/** Help for every parameter of an action: name → what it accepts. */
export function paramHelp(spec: ParamsSpec): Record<string, string> {
  return Object.fromEntries(Object.entries(spec).map(([name, s]) => [name, s.description ? `${s.description}: ${describeParam(s)}` : describeParam(s)]));
}
