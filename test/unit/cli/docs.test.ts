/** docs/cli.md stays true to the code: every command, tool and exit code, and links that resolve. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCommands } from '../../../commands/index.ts';
import { CLI_TOOLS } from '../../../src/cli/tools.ts';
import { EXIT_CODES } from '../../../src/core/exit-codes.ts';

const DOC = new URL('../../../docs/cli.md', import.meta.url).pathname;
const text = readFileSync(DOC, 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');

describe('docs/cli.md', () => {
  it('lists every slash command as `vigil <name>` and every tool by its usage', () => {
    for (const c of allCommands) expect(text).toContain(`| \`vigil ${c.name}`);
    // In a Markdown table `|` inside a cell is written `\|`.
    for (const tool of CLI_TOOLS) expect(text).toContain(`| \`${tool.usage.replace(/\|/g, '\\|')}\``);
  });

  it('has a row for every exit code', () => {
    for (const { code } of EXIT_CODES) expect(text).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('every relative link resolves from docs/, anchors included', () => {
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const [path = '', hash] = link.split('#');
      const target = path === '' ? DOC : resolve(dirname(DOC), path);
      expect(existsSync(target), link).toBe(true);
      if (hash) {
        const headings = [...readFileSync(target, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1] ?? ''));
        expect(headings, link).toContain(hash);
      }
    }
  });
});
