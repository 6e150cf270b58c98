import type { OptionSpec } from '../core/args.ts';

/** What completion needs to know of a command: the dispatcher's own list (features' commands). */
export interface CompletableCommand {
  name: string;
  usage: string;
  options: OptionSpec;
}

/** Flags the dispatcher takes for every command (core/dispatch.ts takeGlobalFlags). */
const GLOBAL_FLAGS = ['--json', '--public', '--help'];
const UMBRELLA = 'vigil';
const SHELL_WORDS = ['help', 'exit', 'quit'];

export type Completer = (line: string) => [string[], string];

/**
 * Tab completion for the shell, as readline's `completer`: command names as the first word
 * (`/hea` → `/health`, `hea` → `health`, `/vigil hea` → `/vigil health`), then the typed
 * command's flags (`--` → `--by --limit …`), then a flag's listed values (`--by m` → `mean`, from
 * usage text such as `--by total|mean|calls`). A single match gets a trailing space, as in bash.
 */
export function createCompleter(commands: readonly CompletableCommand[]): Completer {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const names = [...commands.map((c) => c.name), 'help'].sort();
  return (line) => {
    const words = line.trimStart().split(/\s+/);
    const current = words.pop() ?? '';
    const done = words;
    const finish = (candidates: readonly string[]): [string[], string] => {
      const hits = [...new Set(candidates)].filter((c) => c.startsWith(current));
      return [hits.length === 1 ? [`${hits[0]} `] : hits, current];
    };

    if (done.length === 0) {
      if (current.startsWith('/')) return finish([...names.map((n) => `/${n}`), `/${UMBRELLA}`]);
      return finish([...names, ...SHELL_WORDS]);
    }
    // `/vigil <name>` and `<name>` both reach the command named by the first real word.
    const first = (done[0] ?? '').toLowerCase();
    const viaUmbrella = first === `/${UMBRELLA}` || first === UMBRELLA;
    if (viaUmbrella && done.length === 1) return finish(names);
    const command = byName.get((viaUmbrella ? (done[1] ?? '') : first).replace(/^\//, ''));
    if (!command) return [[], current];

    const previous = done[done.length - 1] ?? '';
    const values = flagValues(command.usage).get(previous);
    if (values && !current.startsWith('-')) return finish(values);
    if (current.startsWith('-') || current === '') {
      const used = new Set(done);
      const flags = [...Object.keys(command.options).map((k) => `--${k}`), ...GLOBAL_FLAGS].filter((f) => !used.has(f));
      // An empty word offers flags only when there is nothing positional to guess.
      return current === '' ? [flags, current] : finish(flags);
    }
    return [[], current];
  };
}

/** `--by total|mean|calls` in a usage line: the values a flag takes. */
function flagValues(usage: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const match of usage.matchAll(/(--[\w-]+) ([\w-]+(?:\|[\w-]+)+)/g)) found.set(match[1] ?? '', (match[2] ?? '').split('|'));
  return found;
}
