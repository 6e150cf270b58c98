import { z } from 'zod';
import type { Form, FormField } from '../core/interactions.ts';
import type { RichText } from '../core/reply.ts';
import { REQUEST_FORM } from './messages.ts';

const paramValues = z.record(z.string(), z.union([z.string(), z.number()]));

/**
 * What a request form carries through Slack (a modal's private_metadata): the action, its
 * parameters, and optionally variants of them the requester picks from (a silence of the whole
 * group or of one alert). A button's value is the same without variants.
 */
export const requestFormValue = z
  .object({ action: z.string().max(61), params: paramValues, variants: z.record(z.string().max(150), paramValues).optional() })
  .strict();
export type RequestFormValue = z.infer<typeof requestFormValue>;

/** The field ids of a request form. */
export const REQUEST_FIELDS = { reason: 'reason', variant: 'variant' } as const;

// Slack keeps at most 3000 characters of private_metadata.
const METADATA_MAX = 3000;

export interface VariantOption {
  value: string;
  label: string;
  /** Merged over the base parameters when chosen. */
  params: Record<string, string | number>;
}

/** The reason field every request form asks (approvers see it; a silence keeps it as its comment). */
export function reasonField(keptWithSilence: boolean): FormField {
  return { id: REQUEST_FIELDS.reason, label: 'Why?', hint: `Shown to approvers${keptWithSilence ? ' and kept with the silence' : ''}`, multiline: true, maxLength: 500 };
}

/**
 * A request form offering a choice between variants of the parameters, and the reason. Options
 * that would not fit in Slack's private_metadata are left out from the end (the first, the
 * broadest, always stays), so what is offered is always what can be requested.
 */
export function requestFormWithChoice(o: {
  action: string;
  params: Record<string, string | number>;
  title: string;
  intro?: RichText;
  choice: { label: string; options: VariantOption[] };
  keptWithSilence: boolean;
}): Form {
  let options = o.choice.options;
  const metadata = () =>
    JSON.stringify({ action: o.action, params: o.params, variants: Object.fromEntries(options.map((v) => [v.value, v.params])) } satisfies RequestFormValue);
  while (options.length > 1 && metadata().length > METADATA_MAX) options = options.slice(0, -1);
  const choice: FormField = {
    id: REQUEST_FIELDS.variant,
    label: o.choice.label,
    options: options.map((v) => ({ value: v.value, label: v.label })),
    ...(options[0] ? { initial: options[0].value } : {}),
  };
  return {
    handler: REQUEST_FORM,
    title: o.title,
    submit: 'Request',
    ...(o.intro !== undefined ? { intro: o.intro } : {}),
    fields: [choice, reasonField(o.keptWithSilence)],
    privateMetadata: metadata(),
  };
}
