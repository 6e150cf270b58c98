import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { Invoker } from '../core/command.ts';
import { describeError } from '../core/errors.ts';
import type { InteractionAnswer, InteractionDispatcher } from '../core/interactions.ts';
import type { Reply } from '../core/reply.ts';
import { withTimeout } from '../core/timeout.ts';
import { LIMITS, renderBlocks, renderForm, renderModal } from './blocks.ts';
import type { ResponseUrlPoster } from './response-url.ts';

/** The fields of a block_actions payload Vigil relies on; anything else Slack sends is ignored. */
const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  team: z.object({ id: z.string() }).nullish(),
  channel: z.object({ id: z.string() }).nullish(),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string().min(1).max(255), value: z.string().max(2000).optional() })).min(1),
  response_url: z.url().optional(),
  trigger_id: z.string().max(255).optional(),
});

/** A modal's inputs: block id → action id → the typed value or the chosen option. */
const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  team: z.object({ id: z.string() }).nullish(),
  view: z.object({
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000).default(''),
    state: z.object({
      values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish(), selected_option: z.object({ value: z.string().max(LIMITS.optionValue) }).nullish(), selected_user: z.string().max(40).nullish() }))),
    }),
  }),
});

export interface InteractionListenerOptions {
  interactions: InteractionDispatcher;
  logError: (message: string) => void;
  /** A form's answer has to ride on the ack, which Slack awaits 3 s at most. */
  formBudgetMs?: number;
  /** Posts answers to clicks: retried, never to a host that is not Slack's, never redirected. */
  responseUrls: ResponseUrlPoster;
}

/** `refresh#3` → `refresh`: the renderer appends the button's position to keep action ids unique. */
export function handlerOf(actionId: string): string {
  const hash = actionId.lastIndexOf('#');
  return hash > 0 ? actionId.slice(0, hash) : actionId;
}

function invokerOf(p: { user: { id: string; username?: string | undefined; name?: string | undefined }; team?: { id: string } | null | undefined }, channelId?: string): Invoker {
  const name = p.user.username ?? p.user.name;
  return {
    surface: 'slack',
    userId: p.user.id,
    ...(name ? { userName: name } : {}),
    ...(channelId ? { channelId } : {}),
    ...(p.team?.id ? { teamId: p.team.id } : {}),
  };
}

/**
 * One listener for every button and one for every modal: each acks at once (buttons) or within
 * the form budget (forms) and hands the interaction to the registry, which answers even for an
 * unknown or stale button, so a click never meets silence.
 */
export function registerInteractionListener(app: App, opts: InteractionListenerOptions): void {
  app.action(/.*/, async ({ ack, body, client }) => {
    const receivedAt = Date.now();
    await ack();
    const parsed = blockActionsSchema.safeParse(body);
    if (!parsed.success) {
      opts.logError(`bad block_actions payload: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      return;
    }
    const p = parsed.data;
    const action = p.actions[0];
    if (!action) return;
    const channelId = p.channel?.id;
    const answer = await opts.interactions.dispatch({
      kind: 'button',
      handler: handlerOf(action.action_id),
      value: action.value ?? '',
      invoker: invokerOf(p, channelId),
      ...(channelId && p.message ? { message: { channelId, ts: p.message.ts, ...(p.message.thread_ts ? { threadTs: p.message.thread_ts } : {}) } } : {}),
    });
    if (answer.form) {
      // The trigger is valid for 3 s after the click: the modal opens now or not at all.
      if (!p.trigger_id) return opts.logError(`no trigger_id to open a form for ${action.action_id}`);
      try {
        await client.views.open({ trigger_id: p.trigger_id, view: renderForm(answer.form) });
      } catch (err) {
        opts.logError(`opening a form for ${action.action_id} failed: ${describeError(err)}`);
      }
      return;
    }
    if (!answer.reply) return;
    // Not Bolt's respond(): see command-listener.ts. The poster logs and counts how it ended.
    await opts.responseUrls.post(p.response_url, clickResponse(answer.reply, answer.replaceOriginal === true), receivedAt, `a click on ${handlerOf(action.action_id)}`);
  });

  app.view(/.*/, async ({ ack, body }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      await ack();
      opts.logError(`bad view_submission payload: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      return;
    }
    const p = parsed.data;
    const values: Record<string, string> = {};
    for (const [blockId, actions] of Object.entries(p.view.state.values)) {
      const first = Object.values(actions)[0];
      const value = first?.value ?? first?.selected_option?.value ?? first?.selected_user;
      if (value !== null && value !== undefined) values[blockId] = value;
    }
    let answer: InteractionAnswer;
    try {
      answer = await withTimeout(
        opts.interactions.dispatch({ kind: 'form', handler: handlerOf(p.view.callback_id), values, privateMetadata: p.view.private_metadata, invoker: invokerOf(p) }),
        opts.formBudgetMs ?? 2500,
        'the form handler',
      );
    } catch (err) {
      answer = { reply: { title: 'Vigil', status: 'fail', summary: describeError(err) } };
    }
    if (answer.errors) return void (await ack({ response_action: 'errors', errors: answer.errors }));
    if (answer.reply) return void (await ack({ response_action: 'update', view: renderModal(answer.reply) }));
    await ack();
  });

  // Closing a modal needs no answer, but an un-acked request would wait out Slack's 3 s.
  app.view({ type: 'view_closed', callback_id: /.*/ }, async ({ ack }) => {
    await ack();
  });
}

function clickResponse(reply: Reply, replaceOriginal: boolean) {
  const { text, blocks } = renderBlocks(reply);
  return replaceOriginal
    ? { replace_original: true, text, blocks }
    : { response_type: 'ephemeral' as const, replace_original: false, text, blocks };
}
