import type { Principal } from '../core/accounts/model.js';
import type { App } from '../main.js';

/**
 * The `secretFor` of a signature check (ACS3 or v1 on the RPC dialect, AK/SK on APIG) over the
 * account store, remembering whom the key it opened speaks for: `principal` is set once the
 * signature's key was found active, and stays undefined for an unknown or disabled key.
 */
export function accessKeySecrets(app: App): { secretFor(accessKeyId: string): Promise<string | undefined>; readonly principal: Principal | undefined } {
  let principal: Principal | undefined;
  return {
    async secretFor(accessKeyId: string): Promise<string | undefined> {
      const found = await app.accounts.accessKeyWithSecret(accessKeyId);
      principal = found?.principal;
      return found?.secret;
    },
    get principal(): Principal | undefined {
      return principal;
    },
  };
}
