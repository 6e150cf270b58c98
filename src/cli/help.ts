import type { CommandInfo } from '../core/command.ts';
import { EXIT_CODES } from '../core/exit-codes.ts';
import type { Reply } from '../core/reply.ts';
import type { CliTool } from './tools.ts';

/**
 * Options the launcher or the router handle. `--version` is answered by src/bin/vigil.mjs before
 * anything is built, so it has no table entry to derive it from; a test checks it works.
 */
const OPTIONS: readonly { usage: string; summary: string }[] = [
  { usage: 'vigil --help, -h, vigil help', summary: 'this list (needs no configuration)' },
  { usage: 'vigil <command> --help', summary: "one command's or tool's usage" },
  { usage: 'vigil --version, -v', summary: 'the installed version' },
  { usage: '--json', summary: "a command's answer as JSON on stdout (exit codes unchanged)" },
];

interface Entry {
  usage: string;
  summary: string;
}

/** Synopsis on its own line, what it does under it: a table would cut the long synopses. */
const listed = (entries: readonly Entry[]): string => entries.map((e) => `${e.usage}\n    ${e.summary}`).join('\n');

/**
 * `vigil --help`: every slash command in its CLI form, every CLI-only tool, the options and the
 * exit codes, all from the tables the CLI dispatches on and exits with.
 */
export function cliHelpReply(commands: readonly CommandInfo[], tools: readonly CliTool[], problem?: string): Reply {
  const commandEntries = commands.map((c) => ({ usage: `vigil ${c.name} ${c.usage}`.trim(), summary: c.summary }));
  const toolEntries = tools.map((t) => ({ usage: t.usage, summary: t.summary }));
  return {
    title: 'vigil: Vigil from the command line',
    status: problem ? 'warn' : 'info',
    summary: `${problem ? `${problem} ` : ''}Usage: vigil <command> [arguments] [--json]. Answers go to stdout, logs and problems to stderr.`,
    sections: [
      { heading: 'Commands (the slash commands, run once)', text: listed(commandEntries) },
      { heading: 'Tools (command line only)', text: listed(toolEntries) },
      { heading: 'Options', text: listed(OPTIONS) },
      { heading: 'Exit codes', table: { columns: ['code', 'meaning'], rows: EXIT_CODES.map((e) => [String(e.code), e.meaning]) } },
    ],
    notes: ['More, with examples: docs/cli.md'],
    data: { ...(problem ? { problem } : {}), commands: commandEntries, tools: toolEntries, options: OPTIONS, exitCodes: EXIT_CODES },
  };
}

/** `vigil audit export --help`: one tool's synopsis. */
export function toolUsageText(tool: CliTool): string {
  return `${tool.summary}.\nusage: ${tool.usage}\n`;
}
