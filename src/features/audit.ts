import type { AuditCommandDeps } from '../../commands/audit.ts';
import { commands } from '../../commands/index.ts';
import { listAuditEvents } from '../audit/chain.ts';
import { bindCommands } from '../core/command.ts';
import { AppError } from '../core/errors.ts';
import type { Feature } from './feature.ts';
import type { Infrastructure } from '../infrastructure.ts';

/**
 * `/audit`: the recent audit trail, read from Vigil's state database. Writing the trail is not
 * this feature's job (each change appends its own events in its own transaction), nor is
 * checking the chain (`npx vigil audit verify`).
 */
export function auditFeature(infra: Infrastructure): Feature {
  const { state } = infra;
  const status = state.status();
  const deps: AuditCommandDeps = {
    audit: state.pool
      ? {
          async recent(filter, limit) {
            const s = await state.ready();
            if (s.kind !== 'ready') throw new AppError('dependency_unavailable', `Vigil's state database is not available: ${s.why}.`);
            return listAuditEvents(s.pool, filter, { limit, order: 'newest' });
          },
        }
      : null,
    missing: status.kind === 'ready' ? undefined : status.why,
    now: Date.now,
  };
  return { name: 'audit', commands: bindCommands([commands.audit], deps) };
}
