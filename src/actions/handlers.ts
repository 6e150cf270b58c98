import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import type { InteractionAnswer, InteractionHandler } from '../core/interactions.ts';
import type { ActionDefinition } from './definition.ts';
import { APPROVE_HANDLER, DENY_HANDLER, REQUEST_FORM, REQUEST_HANDLER } from './messages.ts';
import { REQUEST_ID } from './request.ts';
import { reasonField, REQUEST_FIELDS, requestFormValue } from './request-form.ts';
import type { ActionService } from './service.ts';

/** A request button's value: which action, with which parameters. */
const requestValue = z.object({ action: z.string().max(61), params: z.record(z.string(), z.union([z.string(), z.number()])) }).strict();

/**
 * The clicks and forms of approved actions: Approve and Deny on the approval message, a button
 * elsewhere (/queue, an alert message) requesting an action, and the form asking for the reason
 * such a request needs. Each parses what Slack hands back before anything is decided.
 */
export function actionHandlers(service: ActionService, definitions: ReadonlyMap<string, ActionDefinition>): InteractionHandler[] {
  const decide = (decision: 'approve' | 'deny'): InteractionHandler => ({
    id: decision === 'approve' ? APPROVE_HANDLER : DENY_HANDLER,
    async handle(interaction) {
      if (interaction.kind !== 'button' || !REQUEST_ID.test(interaction.value)) throw new AppError('stale', 'This button does not name an action request.');
      return service.decide(decision, interaction.value, interaction.invoker);
    },
  });
  // An action that needs a reason asks for it in a form first, whose submission makes the request.
  const requestButton: InteractionHandler = {
    id: REQUEST_HANDLER,
    async handle(interaction) {
      if (interaction.kind !== 'button') throw new AppError('stale', 'This form does not request an action.');
      const parsed = requestValue.safeParse(safeJson(interaction.value));
      if (!parsed.success) throw new AppError('stale', 'This button does not name an action to request.');
      const def = definitions.get(parsed.data.action);
      if (def?.needsReason) {
        return { form: { handler: REQUEST_FORM, title: 'Reason needed', submit: 'Request', fields: [reasonField(def.reasonParam !== undefined)], privateMetadata: interaction.value } };
      }
      return { reply: await service.request(parsed.data.action, parsed.data.params, null, interaction.invoker) };
    },
  };
  const requestForm: InteractionHandler = {
    id: REQUEST_FORM,
    async handle(interaction): Promise<InteractionAnswer> {
      const parsed = interaction.kind === 'form' ? requestFormValue.safeParse(safeJson(interaction.privateMetadata)) : null;
      if (!parsed?.success || interaction.kind !== 'form') throw new AppError('stale', 'This form does not name an action to request.');
      const { variants } = parsed.data;
      const chosen = interaction.values[REQUEST_FIELDS.variant];
      // A form offering variants (the whole group, one alert): the one picked, and only one offered.
      if (variants && (chosen === undefined || !Object.hasOwn(variants, chosen))) return { errors: { variant: 'Choose one of the options.' } };
      const params = variants && chosen !== undefined ? { ...parsed.data.params, ...variants[chosen] } : parsed.data.params;
      const reason = (interaction.values[REQUEST_FIELDS.reason] ?? '').trim();
      if (!reason) return { errors: { reason: 'Say why: approvers see it.' } };
      try {
        return { reply: await service.request(parsed.data.action, params, reason.slice(0, 500), interaction.invoker) };
      } catch (err) {
        // A refusal is answered (and counted) as one; anything else is shown in the form itself,
        // so nothing typed is lost.
        if (err instanceof AppError && err.code !== 'forbidden') return { errors: { reason: err.userMessage } };
        throw err;
      }
    },
  };
  return [decide('approve'), decide('deny'), requestButton, requestForm];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
