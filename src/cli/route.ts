import { tokenize } from '../core/args.ts';
import { takeGlobalFlags } from '../core/dispatch.ts';
import { CLI_TOOLS, type CliTool } from './tools.ts';

/** What a command line asks for, decided before any configuration is read. */
export type CliRoute =
  /** `vigil`, `vigil help`, `vigil --help`; with a problem for an unknown command (exit 64). */
  | { kind: 'help'; json: boolean; problem?: string }
  | { kind: 'tool-help'; tool: CliTool }
  | { kind: 'tool'; tool: CliTool; rest: string[] }
  /** A slash command, as `/vigil <text>`; `help` when it asks for its own usage. */
  | { kind: 'command'; name: string; text: string; help: boolean };

const HELP_WORDS = new Set(['--help', '-h']);

/**
 * Route `argv` with the same tables the CLI runs on: the tool table, then the slash commands'
 * names (the registry the dispatcher and the Slack manifest use), found as the dispatcher finds
 * them (global flags anywhere, the first word, any case). Help needs no configuration, so a
 * person with a broken one can still read it.
 */
export function routeCli(argv: readonly string[], commandNames: readonly string[], tools: readonly CliTool[] = CLI_TOOLS): CliRoute {
  const tool = tools.find((t) => t.words.every((word, i) => argv[i] === word));
  if (tool) {
    const rest = argv.slice(tool.words.length);
    return rest.some((a) => HELP_WORDS.has(a)) ? { kind: 'tool-help', tool } : { kind: 'tool', tool, rest };
  }
  // The text the dispatcher will see: words with spaces stay one word.
  const text = argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ');
  const { words, flags } = takeGlobalFlags(tokenize(text));
  const name = words[0]?.toLowerCase();
  if (name === undefined || name === 'help') return { kind: 'help', json: flags.json };
  if (!commandNames.includes(name)) return { kind: 'help', json: flags.json, problem: `Unknown command "${words[0]}".` };
  return { kind: 'command', name, text, help: flags.help };
}
