import { replyButtons, RUN_COMMAND, type Form, type FormField } from '../core/interactions.ts';
import { richTextString, type Reply, type Status } from '../core/reply.ts';
import { tableLines } from './table.ts';

const MARK: Record<Status, string> = { ok: '[ok]  ', warn: '[WARN]', fail: '[FAIL]', info: '[info]' };

/** A Reply for a terminal: plain text, status as a greppable tag, tables aligned. */
export function renderText(reply: Reply): string {
  const out: string[] = [`${MARK[reply.status].trim()} ${reply.title}`];
  if (reply.summary) out.push(richTextString(reply.summary));
  for (const section of reply.sections ?? []) {
    out.push('', section.status ? `${section.heading} ${MARK[section.status].trim()}` : section.heading);
    if (section.text) out.push(...section.text.split('\n').map((l) => `  ${l}`));
    if (section.fields) {
      const width = Math.max(...section.fields.map((f) => f.label.length));
      out.push(...section.fields.map((f) => `  ${f.label.padEnd(width)}  ${f.value}`));
    }
    if (section.table) out.push(...tableLines(section.table, { marker: (s) => MARK[s] }).map((l) => `  ${l}`));
  }
  if (reply.notes?.length) out.push('', ...reply.notes.map((n) => `note: ${richTextString(n)}`));
  if (reply.links?.length) out.push('', ...reply.links.map((l) => `${l.label}: ${l.url}`));
  const buttons = replyButtons(reply);
  if (buttons.length > 0) {
    // Numbered so the shell can press one; a suggestion shows the command it stands for.
    out.push('', 'choices (type the number):');
    buttons.forEach((b, i) => out.push(`  ${i + 1}) ${b.label}${b.handler === RUN_COMMAND ? `: ${b.value}` : ''}`));
  }
  return out.join('\n');
}

/** `--json`: the command's machine-readable data, or the whole reply when it has none. */
export function renderJson(reply: Reply): string {
  return JSON.stringify(reply.data ?? reply, null, 2);
}

/** A form as the shell opens it: its title, how to leave it, and its intro. */
export function renderFormStart(form: Form): string {
  return [`${form.title} (an empty line cancels)`, ...(form.intro ? [richTextString(form.intro)] : [])].join('\n');
}

/** One question of a form; a choice lists its options, numbered, marking the preselected one. */
export function renderFormField(field: FormField): string {
  const hint = field.hint ? ` (${field.hint})` : '';
  if (!field.options) return `${field.label}${hint}:`;
  const options = field.options.map((o, i) => `  ${i + 1}) ${o.label}${o.value === field.initial ? ' (suggested)' : ''}`);
  return [`${field.label}${hint}, type the number:`, ...options].join('\n');
}
