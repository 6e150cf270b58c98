import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HISTORY_SIZE, historyFile } from '../../../src/shell/history.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shell history file', () => {
  it('is empty before the first save; saves oldest first, owner-only, in a data dir it creates', () => {
    const file = historyFile(join(dir, 'data', 'shell-history'));
    expect(file.load()).toEqual([]);
    file.save(['/queue', '/health']); // readline's order: newest first
    expect(readFileSync(join(dir, 'data', 'shell-history'), 'utf8')).toBe('/health\n/queue\n');
    expect(statSync(join(dir, 'data', 'shell-history')).mode & 0o777).toBe(0o600);
    expect(file.load()).toEqual(['/queue', '/health']);
  });

  it(`keeps at most ${HISTORY_SIZE} lines, the newest, and tightens an older file's mode`, () => {
    const path = join(dir, 'long-history');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    const newestFirst = Array.from({ length: HISTORY_SIZE + 20 }, (_, i) => `/cmd ${HISTORY_SIZE + 19 - i}`);
    historyFile(path).save(newestFirst);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(HISTORY_SIZE);
    expect([lines[0], lines.at(-1)]).toEqual(['/cmd 20', `/cmd ${HISTORY_SIZE + 19}`]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(historyFile(path).load()[0]).toBe(`/cmd ${HISTORY_SIZE + 19}`);
  });

  it('stores lines trimmed (completion leaves a trailing space) and each once, at its newest use', () => {
    const path = join(dir, 'dupes');
    historyFile(path).save(['/health ', '/queue', '/health', '  ']);
    expect(readFileSync(path, 'utf8')).toBe('/queue\n/health\n');
  });
});
