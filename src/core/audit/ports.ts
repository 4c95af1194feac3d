/** One thing someone did (or tried): who, what, on which object, how it ended. Never a secret. */
export interface AuditEvent {
  at: Date;
  accountId: string;
  /** Access key id, user id or `token`: who acted, never a credential itself. */
  actor: string;
  action: string;
  resource: string;
  /** `success`, `denied`, or the catalogue code of the error. */
  outcome: string;
  requestId: string;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  list(accountId: string, limit: number): Promise<AuditEvent[]>;
}
