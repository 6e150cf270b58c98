import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileSchema } from '../../src/config/file.ts';
import type { BackupTarget } from '../../src/probes/backup-probe.ts';

/** Backups on the real filesystem and "latest backup" URLs on a real local HTTP server. */
export const HOUR = 3_600_000;

/** A fresh directory under the OS temp dir; `cleanup()` removes every one made. */
export function backupDirs() {
  const made: string[] = [];
  return {
    make(): string {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-backups-'));
      made.push(dir);
      return dir;
    },
    cleanup(): void {
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A file of `bytes` bytes whose mtime (and atime) is `ageMs` before `now`. */
export function dumpFile(dir: string, name: string, ageMs: number, now: number, bytes = 1024): string {
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, Buffer.alloc(bytes, 1));
  const when = new Date(now - ageMs);
  utimesSync(path, when, when);
  return path;
}

/** Backups as an operator writes them in YAML, through the real schema, with the probe budget. */
export function backupsFrom(raw: Array<Record<string, unknown>>, timeoutMs = 1000): BackupTarget[] {
  return fileSchema.parse({ probes: { backups: raw } }).probes.backups.map((b) => ({ ...b, timeoutMs }));
}

/**
 * A local HTTP server answering each path with `answer(path)`: `hang` answers nothing, ever;
 * `stall` sends the status and the first bytes of a body that never ends.
 */
export async function startStampServer(answer: (path: string) => { status: number; body: string } | 'hang' | 'stall') {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const a = answer(req.url ?? '/');
    if (a === 'hang') return;
    if (a === 'stall') return void res.writeHead(200, { 'content-type': 'application/json' }).write('{"timestamp": ');
    res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const execFileAsync = promisify(execFile);
const SRC = new URL('../../src/', import.meta.url).pathname;

/**
 * `measureBackupDir` in a child process running as `nobody`, the way to meet a directory Vigil may
 * not read when the suite runs as root (root reads everything). Answers the error a person would
 * see, or the measurement.
 */
export async function measureDirAsNobody(dir: string, pattern: string): Promise<{ error?: string; values?: Record<string, number> }> {
  const script = `import { measureBackupDir } from '${SRC}probes/backup-dir.ts';
measureBackupDir(${JSON.stringify(dir)}, ${JSON.stringify(pattern)}, Date.now()).then(
  (m) => console.log(JSON.stringify({ values: m.values })),
  (e) => console.log(JSON.stringify({ error: e.userMessage ?? String(e) })),
);`;
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    uid: 65534,
    gid: 65534,
    cwd: new URL('../..', import.meta.url).pathname,
    timeout: 15_000,
  });
  return JSON.parse(stdout) as { error?: string; values?: Record<string, number> };
}
