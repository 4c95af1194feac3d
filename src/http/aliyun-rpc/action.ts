import type { Principal } from '../../core/accounts/model.js';
import type { App } from '../../main.js';
import type { RpcErrorOverrides } from './errors.js';
import type { RpcParams } from './params.js';

/** What an action handler gets: who calls, with what, in which request. */
export interface RpcContext {
  app: App;
  principal: Principal;
  params: RpcParams;
  requestId: string;
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
  /** Writes are recorded in the audit log; reads are not. */
  writes: boolean;
  resource(ctx: RpcContext): string;
  handle(ctx: RpcContext): Promise<Record<string, unknown>>;
  errors?: RpcErrorOverrides;
}

export const ESA_VERSION = '2024-09-10';
export const CAS_VERSION = '2020-04-07';
