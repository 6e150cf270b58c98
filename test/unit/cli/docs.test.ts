/** docs/cli.md stays true to the code: every command, tool and exit code (its links: test/unit/docs.test.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCommands } from '../../../commands/index.ts';
import { CLI_TOOLS } from '../../../src/cli/tools.ts';
import { EXIT_CODES } from '../../../src/core/exit-codes.ts';

const DOC = new URL('../../../docs/cli.md', import.meta.url).pathname;
const text = readFileSync(DOC, 'utf8');

describe('docs/cli.md', () => {
  it('lists every slash command as `vigil <name>` and every tool by its usage', () => {
    for (const c of allCommands) expect(text).toContain(`| \`vigil ${c.name}`);
    // In a Markdown table `|` inside a cell is written `\|`.
    for (const tool of CLI_TOOLS) expect(text).toContain(`| \`${tool.usage.replace(/\|/g, '\\|')}\``);
  });

  it('has a row for every exit code', () => {
    for (const { code } of EXIT_CODES) expect(text).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });
});
