import type { FastifyBaseLogger } from 'fastify';
import type { AuditEvent } from '../core/audit/ports.js';
import type { App } from '../main.js';

/**
 * Records an audit event that accompanies no change (a denial, a failure): if the audit log itself
 * cannot be written, that is logged, and the caller still gets the answer its request earned.
 */
export async function recordAlone(app: App, log: FastifyBaseLogger, event: AuditEvent): Promise<void> {
  try {
    await app.audit.record(event);
  } catch (err) {
    log.error({ err, action: event.action, outcome: event.outcome }, 'could not write the audit log');
  }
}
