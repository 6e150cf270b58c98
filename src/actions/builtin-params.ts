import { parseMatchers } from '../core/label-matchers.ts';
import { TABLE_NAME_PATTERN } from './runners/vacuum.ts';
import { checkValue, isOptional, kindOf, parseDuration, type ParamKind, type ParamSpec, type ParamsSpec } from './params.ts';

/**
 * The built-in actions and the parameters each takes: what a catalog entry with `builtin:` may
 * declare (only narrowing what the builtin accepts) and what it gets when it declares nothing.
 */
export const BUILTINS = [
  'bullmq.retryFailed',
  'bullmq.pause',
  'bullmq.resume',
  'bullmq.clean',
  'alertmanager.silence',
  'alertmanager.expireSilence',
  'postgres.cancel',
  'postgres.terminate',
  'postgres.vacuum',
] as const;
export type BuiltinName = (typeof BUILTINS)[number];

/**
 * One parameter a builtin needs: `spec` applies when the config does not declare it; a declaration
 * must be one of `overrides` and may only narrow `bound` (an enum of allowed queues, a lower limit).
 * `check`: what a spec cannot say (a matcher list's grammar), applied here to a declared default;
 * requested values meet the same parser in the builtin's request-time check (checkBuiltinTarget).
 */
interface Slot {
  spec: ParamSpec;
  bound: ParamSpec;
  overrides: ParamKind[];
  check?: (value: string) => string | null;
}

/** BullMQ refuses `:` in names; Vigil's config refuses `* ?` and spaces in prefixes likewise. */
export const QUEUE_NAME_PATTERN = '[^:*?\\s]{1,200}';
export const UUID_PATTERN = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const queueSlot: Slot = (() => {
  const spec: ParamSpec = { text: { maxLength: 200, pattern: QUEUE_NAME_PATTERN }, description: 'a BullMQ queue name' };
  return { spec, bound: spec, overrides: ['enum'] };
})();
const slot = (spec: ParamSpec, overrides: ParamKind[], bound: ParamSpec = spec): Slot => ({ spec, bound, overrides });
const matchersSlot: Slot = {
  ...slot({ text: { maxLength: 2000 }, optional: true, description: 'further label matchers, name="value" separated by commas' }, ['text']),
  check: (value) => {
    const parsed = parseMatchers(value);
    return parsed.ok ? null : parsed.message;
  },
};
const pidSlot = slot({ integer: { min: 1, max: 2_147_483_647 }, description: 'a Postgres backend pid' }, ['integer']);

/** What each builtin takes. `extraLabels`: further declared parameters become silence matchers. */
const builtinSlots: Record<BuiltinName, { fixed: Record<string, Slot>; extraLabels?: true }> = {
  'bullmq.retryFailed': {
    fixed: { queue: queueSlot, limit: slot({ integer: { min: 1, max: 1000 }, default: 100, description: 'how many failed jobs to retry' }, ['integer']) },
  },
  'bullmq.pause': { fixed: { queue: queueSlot } },
  'bullmq.resume': { fixed: { queue: queueSlot } },
  'bullmq.clean': {
    fixed: {
      queue: queueSlot,
      state: slot({ enum: ['completed', 'failed', 'delayed', 'wait'], description: 'which jobs to remove' }, ['enum']),
      age: slot({ duration: { max: '90d' }, description: 'remove only jobs older than this' }, ['duration']),
      limit: slot({ integer: { min: 1, max: 10_000 }, default: 1000, description: 'at most this many jobs' }, ['integer']),
    },
  },
  'alertmanager.silence': {
    fixed: {
      alertname: slot({ text: { maxLength: 200 }, description: 'the alertname to silence' }, ['enum', 'text']),
      duration: slot({ duration: { max: '24h', min: '1m' }, description: 'how long' }, ['duration'], { duration: { max: '30d', min: '1m' } }),
      comment: slot({ text: { maxLength: 500 }, description: 'why (shown in Alertmanager)' }, ['text'], { text: { maxLength: 1000 } }),
      matchers: matchersSlot,
    },
    extraLabels: true,
  },
  'alertmanager.expireSilence': { fixed: { id: slot({ text: { maxLength: 36, pattern: UUID_PATTERN }, description: 'the silence id' }, []) } },
  'postgres.cancel': { fixed: { pid: pidSlot } },
  'postgres.terminate': { fixed: { pid: pidSlot } },
  'postgres.vacuum': { fixed: { table: slot({ text: { maxLength: 127, pattern: TABLE_NAME_PATTERN }, description: 'a table as schema.table' }, ['enum', 'text']) } },
};

/** Each declared parameter of a builtin action: a slot it may narrow, or a label matcher where allowed. */
export function checkBuiltin(builtin: BuiltinName, params: ParamsSpec, issue: (path: (string | number)[], message: string) => void): void {
  const slots = builtinSlots[builtin];
  for (const [name, spec] of Object.entries(params)) {
    const slot = slots.fixed[name];
    if (slot) {
      const problem = overrideProblem(slot, spec) ?? (slot.check && typeof spec.default === 'string' ? slot.check(spec.default) : null);
      if (problem) issue(['params', name], `${builtin} ${name}: ${problem}`);
    } else if (slots.extraLabels) {
      if (kindOf(spec) !== 'enum' && kindOf(spec) !== 'text') issue(['params', name], `${builtin}: extra parameters are label matchers and must be enum or text`);
    } else {
      issue(['params', name], `${builtin} takes only: ${Object.keys(slots.fixed).join(', ')}`);
    }
  }
}

/** Why `spec` cannot replace the builtin's slot (it may only narrow what the builtin accepts). */
function overrideProblem(slot: Slot, spec: ParamSpec): string | null {
  const kind = kindOf(spec);
  if (!slot.overrides.includes(kind)) {
    return slot.overrides.length === 0 ? 'is fixed by the builtin and cannot be declared' : `must be declared as ${slot.overrides.join(' or ')}`;
  }
  // Narrowing may make an optional slot required, never the reverse: the builtin needs the value.
  if (isOptional(spec) && !isOptional(slot.spec)) return 'is required by the builtin and cannot be optional';
  const bound = slot.bound;
  if ('enum' in spec) {
    const bad = spec.enum.filter((v) => !checkValue('v', bound, v).ok);
    return bad.length > 0 ? `values ${bad.map((v) => JSON.stringify(v)).join(', ')} are not allowed here (${describeBound(bound)})` : null;
  }
  if ('integer' in spec && 'integer' in bound) {
    const ok = spec.integer.min >= bound.integer.min && spec.integer.max <= bound.integer.max;
    return ok ? null : `min and max must stay within ${bound.integer.min}..${bound.integer.max}`;
  }
  if ('duration' in spec && 'duration' in bound) {
    const max = parseDuration(spec.duration.max) ?? Infinity;
    const min = spec.duration.min === undefined ? 1000 : (parseDuration(spec.duration.min) ?? 0);
    const bMin = bound.duration.min === undefined ? 1000 : (parseDuration(bound.duration.min) ?? 0);
    const ok = max <= (parseDuration(bound.duration.max) ?? 0) && min >= bMin;
    return ok ? null : `must stay within ${bound.duration.min ?? '1s'}..${bound.duration.max}`;
  }
  if ('text' in spec && 'text' in bound) {
    return spec.text.maxLength <= bound.text.maxLength ? null : `maxLength may be at most ${bound.text.maxLength}`;
  }
  return null;
}

function describeBound(bound: ParamSpec): string {
  if ('enum' in bound) return `one of ${bound.enum.join(', ')}`;
  if ('text' in bound) return bound.text.pattern ? `must match ${bound.text.pattern}` : `at most ${bound.text.maxLength} characters`;
  return 'out of range';
}

/** The parameters a builtin takes itself (for a silence, every other one is a label matcher). */
export function fixedParams(builtin: BuiltinName): string[] {
  return Object.keys(builtinSlots[builtin].fixed);
}

/** The effective parameters of a builtin: its slots, narrowed by what the config declares. */
export function builtinParams(builtin: BuiltinName, declared: ParamsSpec): ParamsSpec {
  const slots = builtinSlots[builtin];
  const out: ParamsSpec = {};
  for (const [name, slot] of Object.entries(slots.fixed)) out[name] = declared[name] ?? slot.spec;
  for (const [name, spec] of Object.entries(declared)) if (!slots.fixed[name]) out[name] = spec;
  return out;
}
