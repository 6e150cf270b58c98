import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The documentation stays navigable: the README is a first reader's page (300 lines at most, the
 * rest lives in docs/), every relative link in it and in docs/*.md leads to a file (and heading)
 * of this repository, and nothing links outside it (a clone or a published package has only the
 * repository).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_MAX_LINES = 300;
function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs');
  const pages = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => join(docs, f)) : [];
  return [join(ROOT, 'README.md'), ...pages];
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`, outside code. */
function linksOf(markdown: string, file: string): Link[] {
  const links: Link[] = [];
  let fenced = false;
  markdown.split('\n').forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    if (fenced) return;
    const text = raw.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line: i + 1, target: m[1] ?? '' });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (def?.[1]) links.push({ file, line: i + 1, target: def[1] });
  });
  return links;
}

/** GitHub's anchors: lower case, punctuation dropped, spaces to dashes, `-1`, `-2` for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const slug = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** What is wrong with one link, or null. */
function problemOf(link: Link): string | null {
  const { target } = link;
  if (isExternal(target)) return null;
  if (target.includes('../shared')) return 'links to ../shared, outside the repository';
  const [pathPart = '', anchor] = target.split('#', 2);
  const path = pathPart === '' ? link.file : resolve(dirname(link.file), decodeURIComponent(pathPart));
  const inRepo = relative(ROOT, path);
  if (inRepo.startsWith('..') || inRepo.startsWith(sep)) return 'points outside the repository';
  if (!existsSync(path)) return 'no such file';
  if (anchor && path.endsWith('.md') && statSync(path).isFile() && !anchorsOf(readFileSync(path, 'utf8')).has(anchor)) {
    return `no heading #${anchor} in ${inRepo}`;
  }
  return null;
}

describe('documentation', () => {
  it(`README.md has at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('every relative link in README.md and docs/*.md resolves to a file (and heading) of the repository', () => {
    const broken = markdownFiles().flatMap((file) =>
      linksOf(readFileSync(file, 'utf8'), file).flatMap((link) => {
        const problem = problemOf(link);
        return problem ? [`${relative(ROOT, file)}:${link.line} ${link.target}: ${problem}`] : [];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('nothing in README.md or docs/ refers to files outside the repository (../shared)', () => {
    const outside = markdownFiles().flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.includes('../shared') ? [`${relative(ROOT, file)}:${i + 1}`] : [])),
    );
    expect(outside).toEqual([]);
  });

  it('reads links and anchors as GitHub does', () => {
    const md = 'See [ops](docs/operations.md#logs), `[not](a-link.md)`, ![img](x.png "t") and <https://x.y>.\n```\n[fenced](no.md)\n```\n[ref]: docs/a.md';
    expect(linksOf(md, 'f').map((l) => l.target)).toEqual(['docs/operations.md#logs', 'x.png', 'docs/a.md']);
    expect([...anchorsOf('# Running it as a service (Docker, compose, systemd)\n## `/alerts`\n## Logs\n## Logs')]).toEqual([
      'running-it-as-a-service-docker-compose-systemd',
      'alerts',
      'logs',
      'logs-1',
    ]);
  });
});
