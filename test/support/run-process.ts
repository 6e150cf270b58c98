import { spawn } from 'node:child_process';

/** The repository root: where a person runs `npm start` or `npx vigil`. */
export const REPO_ROOT = new URL('../..', import.meta.url).pathname;

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a real Vigil process (`node <args>`) the way a person would: from the repository root, with
 * only the env given (plus PATH), `input` on stdin; killed after 20 s so a hang fails the test.
 */
export function runNode(args: string[], env: Record<string, string>, input = ''): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
