import { pino, type Logger as PinoLogger } from 'pino';
import { SqlAccountStore } from './adapters/db/account-store.js';
import { SqlCertificateStore } from './adapters/db/certificate-store.js';
import { migrate, openDatabase, type Database } from './adapters/db/database.js';
import { AesGcmSealer } from './adapters/crypto/aes-gcm-sealer.js';
import { loadMasterKeys } from './adapters/crypto/master-key.js';
import type { Config } from './config/config.js';
import { AccountsService } from './core/accounts/service.js';
import { CertificatesService } from './core/certificates/service.js';
import { systemClock, type Clock } from './kernel/clock.js';
import { randomIds, type IdGenerator } from './kernel/ids.js';

/** Everything a role (api server, CLI command) runs on, built once from the config. */
export interface App {
  config: Config;
  logger: PinoLogger;
  database: Database;
  clock: Clock;
  accounts: AccountsService;
  certificates: CertificatesService;
  close(): Promise<void>;
}

export interface ComposeOptions {
  logger?: PinoLogger;
  clock?: Clock;
  ids?: IdGenerator;
}

/** The composition root: config → adapters → services. Migrations are applied before anything runs. */
export async function compose(config: Config, options: ComposeOptions = {}): Promise<App> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'certplane' } });
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const sealer = new AesGcmSealer(loadMasterKeys(config.masterKeys, config.dataDir));
  const database = openDatabase(config.database);
  try {
    const applied = await migrate(database.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (err) {
    await database.close();
    throw err;
  }
  const accounts = new AccountsService({ store: new SqlAccountStore(database.db), clock, ids, sealer });
  const certificates = new CertificatesService({
    store: new SqlCertificateStore(database.db),
    instances: accounts,
    clock,
    ids,
    sealer,
  });
  return {
    config,
    logger,
    database,
    clock,
    accounts,
    certificates,
    close: () => database.close(),
  };
}
