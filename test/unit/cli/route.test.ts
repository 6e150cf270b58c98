import { describe, expect, it } from 'vitest';
import { allCommands } from '../../../commands/index.ts';
import { routeCli } from '../../../src/cli/route.ts';
import { CLI_TOOLS } from '../../../src/cli/tools.ts';

const names = allCommands.map((c) => c.name);
const route = (...argv: string[]) => routeCli(argv, names);
const toolOf = (r: ReturnType<typeof route>) => ('tool' in r ? r.tool.words.join(' ') : null);

describe('routeCli', () => {
  it('runs a tool by its leading words, with the rest as its arguments; --help anywhere asks for its usage', () => {
    expect(route('audit', 'verify')).toMatchObject({ kind: 'tool', rest: [] });
    expect(toolOf(route('audit', 'export', '--format', 'csv'))).toBe('audit export');
    expect(route('audit', 'export', '--format', 'csv')).toMatchObject({ kind: 'tool', rest: ['--format', 'csv'] });
    expect(route('migrate', '-h')).toMatchObject({ kind: 'tool-help' });
    for (const tool of CLI_TOOLS) expect(toolOf(route(...tool.words))).toBe(tool.words.join(' '));
  });

  it('`vigil audit` with the /audit command’s options is the slash command, not a tool', () => {
    expect(route('audit', '--since', '24h')).toMatchObject({ kind: 'command', name: 'audit' });
  });

  it('finds a slash command as the dispatcher does: global flags anywhere, any case', () => {
    expect(route('--json', 'HEALTH')).toMatchObject({ kind: 'command', name: 'health', help: false });
    expect(route('queue', 'emails', '--help')).toMatchObject({ kind: 'command', name: 'queue', help: true });
    expect(route('run', 'restart', '--reason', 'deploy broke')).toMatchObject({ text: 'run restart --reason "deploy broke"' });
  });

  it('help without a command; an unknown command is help with the problem', () => {
    for (const argv of [[], ['help'], ['--help'], ['-h'], ['--json']]) expect(route(...argv)).toMatchObject({ kind: 'help' });
    expect(route('--help', '--json')).toEqual({ kind: 'help', json: true });
    expect(route('nope', 'x')).toEqual({ kind: 'help', json: false, problem: 'Unknown command "nope".' });
    expect(route('/health')).toMatchObject({ problem: 'Unknown command "/health".' });
  });
});
