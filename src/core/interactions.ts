import type { Invoker } from './command.ts';
import { describeError, isAppError, type AppError } from './errors.ts';
import { richTextString, type Button, type Reply, type RichText } from './reply.ts';
import type { Refusal } from './refusal.ts';
import { elapsedMs } from './timeout.ts';

/** The built-in handler behind every suggestion: run the suggested command for whoever clicked. */
export const RUN_COMMAND = 'vigil.command';

/**
 * Slack reports a click on a link button too; this handler only acknowledges it (the browser
 * already opened the link).
 */
export const OPEN_LINK = 'vigil.link';

export const openLinkHandler: InteractionHandler = { id: OPEN_LINK, handle: async () => ({}) };

/** Handler ids travel in Slack's action_id / callback_id next to a `#n` suffix, hence no `#`. */
const HANDLER_ID = /^[a-z][a-z0-9._-]{0,100}$/;

/** A button pressed: who, where, on which message, which button, with what value. */
export interface Click {
  kind: 'button';
  handler: string;
  value: string;
  invoker: Invoker;
  /** The message the button sat on (Slack), so a handler can update it or reply in its thread. */
  message?: { channelId: string; ts: string; threadTs?: string };
}

/** A form (Slack modal) submitted: its fields by block id, plus what the form carried along. */
export interface FormSubmission {
  kind: 'form';
  handler: string;
  values: Record<string, string>;
  privateMetadata: string;
  invoker: Invoker;
}

export type Interaction = Click | FormSubmission;

/** One choice of a choice field: `value` is what the submission carries, `label` what people read. */
export interface FormOption {
  value: string;
  label: string;
}

/** One question of a form: free text, or a choice when it has `options`. */
export interface FormField {
  /** The key of the value in the submission. */
  id: string;
  label: string;
  hint?: string;
  multiline?: boolean;
  maxLength?: number;
  /** A choice instead of free text; the submission carries the chosen option's value. */
  options?: FormOption[];
  /** The value of the option chosen unless someone picks another (choice fields), or the person preselected (person fields). */
  initial?: string;
  /** A person: Slack offers its people picker (the submission carries a user id); the shell asks for the id. */
  person?: boolean;
}

/**
 * Questions to ask before a click can go on (a reason, say): a Slack modal, or prompts in the
 * shell. The answers come back as a FormSubmission to `handler`, with `privateMetadata`.
 */
export interface Form {
  handler: string;
  title: string;
  /** Shown above the fields: what submitting will do (the exact matchers of a silence, say). */
  intro?: RichText;
  submit: string;
  fields: FormField[];
  privateMetadata: string;
}

export interface InteractionAnswer {
  /** Shown to the person who clicked (ephemeral in Slack). */
  reply?: Reply;
  /** Buttons only: ask these questions first (Slack opens a modal with the click's trigger). */
  form?: Form;
  /** Replace the message the button sat on (e.g. "Approved by …") instead of answering beside it. */
  replaceOriginal?: boolean;
  /** Forms only: problems by block id; the form stays open showing them. */
  errors?: Record<string, string>;
}

export interface InteractionHandler {
  id: string;
  /**
   * What the access policy calls this click (`alerts.acknowledge`), checked before it is handled;
   * unset for clicks that check for themselves (a request button: its action's requesters).
   */
  access?: string;
  handle(interaction: Interaction): Promise<InteractionAnswer>;
}

export type InteractionOutcome = 'ok' | 'stale' | 'error' | 'refused';

export interface InteractionRun {
  handler: string;
  kind: Interaction['kind'];
  invoker: Invoker;
  outcome: InteractionOutcome;
  durationMs: number;
  /** Outcome `refused`: the access rule that refused, and what the person was told. */
  refusal?: { rule: string; message: string };
}

export interface InteractionDispatcher {
  /** Never rejects: an unknown, stale or failing handler still gets an answer to show. */
  dispatch(interaction: Interaction): Promise<InteractionAnswer>;
}

export interface InteractionDispatcherDeps {
  handlers: readonly InteractionHandler[];
  onRun?: (run: InteractionRun) => void;
  logError?: (message: string, run: InteractionRun) => void;
  /** A Postgres or Redis failure in words (which, where, why); null for anything else. */
  explainError?: (err: unknown) => AppError | null;
  /** The access policy for handlers that name an `access`: why the clicker may not, or null. */
  authorize?: (access: string, invoker: Invoker) => Promise<Refusal | null>;
}

/** Clicks reach their handler the way slash commands reach their command. */
export function createInteractionDispatcher(d: InteractionDispatcherDeps): InteractionDispatcher {
  const byId = new Map<string, InteractionHandler>();
  for (const h of d.handlers) {
    if (!HANDLER_ID.test(h.id)) throw new Error(`Interaction handler id "${h.id}" must match ${HANDLER_ID}`);
    if (byId.has(h.id)) throw new Error(`Two interaction handlers share the id "${h.id}"`);
    byId.set(h.id, h);
  }

  return {
    async dispatch(interaction) {
      const start = performance.now();
      const finish = (answer: InteractionAnswer, outcome: InteractionOutcome, refusal?: Refusal): InteractionAnswer => {
        const run: InteractionRun = { handler: interaction.handler, kind: interaction.kind, invoker: interaction.invoker, outcome, durationMs: elapsedMs(start) };
        if (refusal) run.refusal = { rule: refusal.rule, message: richTextString(refusal.message) };
        d.onRun?.(run);
        return answer;
      };
      const handler = byId.get(interaction.handler);
      if (!handler) {
        const what = interaction.kind === 'button' ? 'This button' : 'This form';
        return finish({ reply: notice('info', `${what} is no longer handled by Vigil; it may come from an older message. Run the command again for a fresh one.`) }, 'stale');
      }
      try {
        // An old or forwarded message grants nothing: the clicker is checked now, as themselves.
        const refusal = handler.access && d.authorize ? await d.authorize(handler.access, interaction.invoker) : null;
        if (refusal) return finish({ reply: notice('fail', refusal.message) }, 'refused', refusal);
        return finish(await handler.handle(interaction), 'ok');
      } catch (err) {
        if (isAppError(err)) return finish({ reply: notice(err.code === 'stale' ? 'info' : 'fail', err.richMessage) }, err.code === 'stale' ? 'stale' : err.code === 'forbidden' ? 'refused' : 'error');
        const run = { handler: handler.id, kind: interaction.kind, invoker: interaction.invoker, outcome: 'error' as const, durationMs: elapsedMs(start) };
        d.logError?.(describeError(err), run);
        // A dependency down: say which and why. Clicks change state in one transaction, so a
        // failure means nothing was recorded (fail closed), and the same click can be tried again.
        const explained = d.explainError?.(err);
        if (explained) return finish({ reply: notice('fail', `Cannot handle this click now: ${explained.userMessage} Nothing was recorded; try again once it is back.`) }, 'error');
        return finish({ reply: notice('fail', 'Something went wrong handling this click. The error was logged.') }, 'error');
      }
    },
  };
}

function notice(status: Reply['status'], summary: RichText): Reply {
  return { title: 'Vigil', status, summary };
}

/** Every button a reply offers, suggestions included (they run their command when pressed). */
export function replyButtons(reply: Reply): Button[] {
  return [
    ...(reply.buttons ?? []),
    ...(reply.suggestions ?? []).map((s): Button => ({ handler: RUN_COMMAND, label: s.label, value: s.command })),
  ];
}
