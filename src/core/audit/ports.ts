/** One thing someone did (or tried): who, what, on which object, how it ended. Never a secret. */
export interface AuditEvent {
  at: Date;
  accountId: string;
  /**
   * `key:<access key id>`, `user:<user id>` or `token:<token id>`: who acted, never a credential
   * itself; `operator:cli` for the operator's commands, `system:<what>` for certplane's own rules and jobs.
   */
  actor: string;
  action: string;
  resource: string;
  /** `success`, `denied`, or the catalogue code of the error. */
  outcome: string;
  requestId: string;
}

export interface AuditLog {
  /** Records an event on its own: a denial, a failure, or a write that changed nothing. */
  record(event: AuditEvent): Promise<void>;
  list(accountId: string, limit: number): Promise<AuditEvent[]>;
}

/**
 * What the transport knows of a write before it runs: who asks, for which action, on what. The use
 * case that makes the change completes it (`eventAt`) and hands the event to its store, which writes
 * it in the same transaction as the change: a change and its audit row exist together or not at all.
 */
export class AuditStamp {
  private consumed = false;

  constructor(
    readonly accountId: string,
    readonly actor: string,
    readonly action: string,
    /** The object acted on; for a create, a function naming the object once its id exists. */
    private readonly resource: string | ((createdId: string) => string),
    readonly requestId: string,
  ) {}

  /** The success event of this write, at `at`; `createdId` names what a create made. */
  eventAt(at: Date, createdId?: string): AuditEvent {
    this.consumed = true;
    return this.build(at, 'success', createdId);
  }

  /** An event with another outcome (denied, a failure): recorded on its own, nothing changed. */
  outcomeAt(at: Date, outcome: string): AuditEvent {
    return this.build(at, outcome, undefined);
  }

  /** Whether a use case took the success event (the transport records it itself otherwise). */
  get used(): boolean {
    return this.consumed;
  }

  private build(at: Date, outcome: string, createdId: string | undefined): AuditEvent {
    const resource = typeof this.resource === 'string' ? this.resource : this.resource(createdId ?? '*');
    return { at, accountId: this.accountId, actor: this.actor, action: this.action, resource, outcome, requestId: this.requestId };
  }
}

/** How the audit log names whoever proved a principal: its user, else its access key or token. */
export function actorOf(principal: { userId: string | null; via: string }): string {
  if (principal.userId !== null) return `user:${principal.userId}`;
  return principal.via.startsWith('token:') ? principal.via : `key:${principal.via}`;
}

/** Who the audit log names for the operator's commands (the CLI). */
export const OPERATOR_ACTOR = 'operator:cli';

/** An object of an account as the audit log names what is certplane's own: `certplane:{region}:{account}:{object}`. */
export function certplaneResource(regionId: string, accountId: string, object: string): string {
  return `certplane:${regionId}:${accountId}:${object}`;
}

/** The operator's successful change (the CLI) of `object` in the account. */
export function operatorEvent(regionId: string, accountId: string, action: string, object: string, at: Date): AuditEvent {
  return { at, accountId, actor: OPERATOR_ACTOR, action, resource: certplaneResource(regionId, accountId, object), outcome: 'success', requestId: 'cli' };
}
