import type { Principal } from '../../core/accounts/model.js';
import type { AuditStamp } from '../../core/audit/ports.js';
import type { App } from '../../main.js';
import type { RpcErrorOverrides } from './errors.js';
import type { RpcParams } from './params.js';

/** Who calls, with what, in which request. */
export interface RpcRequestContext {
  app: App;
  principal: Principal;
  params: RpcParams;
  requestId: string;
}

/** What an action handler gets: the request, and the audit stamp a write hands to its use case. */
export interface RpcContext extends RpcRequestContext {
  audit: AuditStamp;
}

/**
 * One RPC operation: its name and version, the RAM action and resource it is authorized against,
 * and a handler that calls one use case and presents the answer (without `RequestId`, added by
 * the transport).
 */
export interface RpcAction {
  version: string;
  name: string;
  /** RAM action, e.g. `esa:GetSite`. */
  permission: string;
  /**
   * Writes are recorded in the audit log, by the use case in the transaction of its change; reads
   * are not.
   */
  writes: boolean;
  resource(ctx: RpcRequestContext): string;
  /** For an action that creates an object: the resource of the new object, named in the audit log. */
  created?(ctx: RpcRequestContext, id: string): string;
  handle(ctx: RpcContext): Promise<Record<string, unknown>>;
  errors?: RpcErrorOverrides;
}

export const ESA_VERSION = '2024-09-10';
export const CAS_VERSION = '2020-04-07';
