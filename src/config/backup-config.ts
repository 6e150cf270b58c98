import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { durationText } from './duration.ts';
import { httpUrl } from './http-url.ts';

/** Where the newest backup's time is read from: exactly one per configured backup. */
export type BackupSource =
  /** The newest regular file in `dir` whose name matches `pattern` (not recursive). */
  | { kind: 'dir'; dir: string; pattern: string }
  /** Postgres WAL archiving, from `pg_stat_archiver` on the inspected database. */
  | { kind: 'archiver' }
  /** A URL answering the newest backup's time (formats in backup-http.ts). */
  | { kind: 'http'; url: string };

export interface BackupSpec {
  name: string;
  /** Older than this, the backup is stale (warn). */
  maxAgeMs: number;
  source: BackupSource;
}

const SOURCES = ['dir', 'archiver', 'http'] as const;

/**
 * A file-name glob: `*` any run of characters, `?` one, everything else literal. Never a path: the
 * probe lists one directory, so a `/` could only be a mistake.
 */
const fileGlob = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/\\]+$/, 'must be a file name pattern like *.dump (no directories)');

const backupEntry = z
  .object({
    name: z.string().min(1).max(60),
    maxAge: durationText.refine((ms) => ms > 0, 'must be longer than 0'),
    // Absolute: the shell, a service and a container start Vigil in different directories.
    dir: z.string().min(1).refine(isAbsolute, 'must be an absolute path').optional(),
    pattern: fileGlob.optional(),
    archiver: z.literal(true, { error: 'must be true (leave it out to use another source)' }).optional(),
    http: httpUrl.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const given = SOURCES.filter((key) => b[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given.length === 0 ? 'needs one source: dir, archiver or http' : `has ${given.join(' and ')}: give exactly one source`,
      });
    }
    if (b.pattern !== undefined && b.dir === undefined) ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'only applies with dir' });
  })
  .transform((b): BackupSpec => ({ name: b.name, maxAgeMs: b.maxAge, source: sourceOf(b) }));

function sourceOf(b: { dir?: string | undefined; pattern?: string | undefined; http?: string | undefined }): BackupSource {
  if (b.dir !== undefined) return { kind: 'dir', dir: b.dir, pattern: b.pattern ?? '*' };
  if (b.http !== undefined) return { kind: 'http', url: b.http };
  return { kind: 'archiver' };
}

/** `probes.backups`: names are unique, as /health rows and rule targets are picked by name. */
export const backupsSchema = z.array(backupEntry).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((b, i) => {
    if (seen.has(b.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${b.name} is already the name of another backup` });
    seen.add(b.name);
  });
});
