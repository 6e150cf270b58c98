import { AppError } from '../core/errors.ts';
import { selectRows, type Queryable } from '../db/queryable.ts';
import { finiteValues, type Measurement } from './reading.ts';
import { formatAge } from './backup-age.ts';

/** One row of `pg_stat_archiver`, ages computed by the server (see measureArchiver). */
export interface ArchiverRow {
  archived_count: string;
  failed_count: string;
  last_archived_wal: string | null;
  last_failed_wal: string | null;
  archived_age_s: number | null;
  failed_age_s: number | null;
  stats_reset: string | null;
  archive_mode: string;
}

/**
 * WAL archiving as `pg_stat_archiver` tells it (readable by pg_monitor). Ages are measured with
 * the server's clock, the one that stamped `last_archived_time`: Vigil's own clock may be off.
 */
export async function measureArchiver(db: Queryable): Promise<Measurement> {
  const [row] = await selectRows<ArchiverRow>(
    db,
    `SELECT /* vigil:health backup archiver */ archived_count, failed_count, last_archived_wal, last_failed_wal,
            extract(epoch FROM now() - last_archived_time)::float8 AS archived_age_s,
            extract(epoch FROM now() - last_failed_time)::float8 AS failed_age_s,
            to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS stats_reset,
            current_setting('archive_mode') AS archive_mode
       FROM pg_stat_archiver`,
  );
  if (!row) throw new Error('pg_stat_archiver returned no row');
  return archiverMeasurement(row);
}

/**
 * Values: `age_seconds` (of the last archived WAL), `archived_count`, `failed_count` (since the statistics were
 * reset: a past failure followed by successes is history, not a problem), `failing` (0/1: the last
 * attempt failed, newer than the last success). Facts: `last_archived_wal`, `last_failed_wal`,
 * `failed_ago`, `archive_mode`.
 *
 * Nothing archived yet is no backup at all: it throws, so the reading fails and a `down` rule fires,
 * as for an empty backup directory, even when archiving is off (whoever configured this check
 * expects WAL to be archived).
 */
export function archiverMeasurement(row: ArchiverRow): Measurement {
  const failed = Number(row.failed_count);
  const failedAgo = row.failed_age_s === null ? null : formatAge(row.failed_age_s);
  if (row.archived_age_s === null) {
    const since = row.stats_reset === null ? '' : ` since the statistics were reset at ${row.stats_reset}`;
    const failures = failed > 0 ? `; ${failed} ${failed === 1 ? 'attempt' : 'attempts'} failed, the last ${failedAgo ?? '?'} ago (${row.last_failed_wal ?? '?'})` : '';
    throw new AppError('not_found', `no WAL archived yet${since} (archive_mode is ${row.archive_mode}${failures})`);
  }
  const failing = row.failed_age_s !== null && row.failed_age_s < row.archived_age_s;
  return {
    values: finiteValues({
      age_seconds: Math.max(0, Math.floor(row.archived_age_s)),
      archived_count: Number(row.archived_count),
      failed_count: failed,
      failing: failing ? 1 : 0,
    }),
    facts: {
      last_archived_wal: row.last_archived_wal ?? '?',
      archive_mode: row.archive_mode,
      ...(row.last_failed_wal === null ? {} : { last_failed_wal: row.last_failed_wal }),
      ...(failedAgo === null ? {} : { failed_ago: failedAgo }),
    },
  };
}
