import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The one typed configuration object. Sources, later ones winning: built-in defaults,
 * the optional JSON config file (CERTPLANE_CONFIG or --config), then environment variables.
 * This module is the only code that reads process.env.
 */
const portSchema = z.coerce.number().int().min(0).max(65535);

const fileSchema = z
  .object({
    port: portSchema.optional(),
    host: z.string().min(1).optional(),
    dataDir: z.string().min(1).optional(),
    databaseUrl: z.string().min(1).optional(),
    masterKey: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
    shutdownGraceMs: z.number().int().min(0).max(600_000).optional(),
  })
  .strict();

export type FileConfig = z.infer<typeof fileSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  /** Master keys as given (base64 or hex, 32 bytes each); the first one seals new records. */
  masterKeys: string[];
  logLevel: NonNullable<FileConfig['logLevel']>;
  bodyLimitBytes: number;
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Environment variable → config file key. */
const ENV_KEYS = {
  CERTPLANE_PORT: 'port',
  CERTPLANE_HOST: 'host',
  CERTPLANE_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  CERTPLANE_MASTER_KEY: 'masterKey',
  CERTPLANE_LOG_LEVEL: 'logLevel',
} as const;

export interface ConfigSources {
  env: Record<string, string | undefined>;
  configFile?: string | undefined;
}

export function loadConfig(sources: ConfigSources = { env: process.env }): Config {
  const problems: string[] = [];
  const fromFile = readConfigFile(sources.configFile ?? sources.env.CERTPLANE_CONFIG, problems);
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [envName, key] of Object.entries(ENV_KEYS)) {
    const value = sources.env[envName];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const parsed = fileSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      problems.push(`${settingName(key)}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const raw = parsed.data;
  const dataDir = resolve(raw.dataDir ?? './data');
  const database = databaseFrom(raw.databaseUrl, dataDir, problems);
  const masterKeys = raw.masterKey ? raw.masterKey.split(',').map((k) => k.trim()) : [];
  masterKeys.forEach((key, i) => {
    if (!decodeMasterKey(key)) {
      problems.push(`CERTPLANE_MASTER_KEY: key ${i + 1} is not 32 bytes of base64 or hex`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: raw.port ?? 8080,
    host: raw.host ?? '127.0.0.1',
    dataDir,
    database: database!,
    masterKeys,
    logLevel: raw.logLevel ?? 'info',
    bodyLimitBytes: raw.bodyLimitBytes ?? 1024 * 1024,
    shutdownGraceMs: raw.shutdownGraceMs ?? 10_000,
  };
}

/** A master key is 32 bytes, written as 64 hex characters or as base64. */
export function decodeMasterKey(text: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (bytes.length !== 32) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(text) && bytes.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    return undefined;
  }
  return bytes;
}

function readConfigFile(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`CERTPLANE_CONFIG: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return {};
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`CERTPLANE_CONFIG: ${path} must hold a JSON object`);
      return {};
    }
    return value as Record<string, unknown>;
  } catch {
    problems.push(`CERTPLANE_CONFIG: ${path} is not valid JSON`);
    return {};
  }
}

function databaseFrom(url: string | undefined, dataDir: string, problems: string[]): Config['database'] | undefined {
  if (url === undefined) return { kind: 'sqlite', file: resolve(dataDir, 'certplane.db') };
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
      return { kind: 'postgres', url };
    } catch {
      problems.push('DATABASE_URL: not a valid postgres:// URL');
      return undefined;
    }
  }
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: resolve(url.slice('sqlite:'.length)) };
  problems.push('DATABASE_URL: must start with postgres://, postgresql:// or sqlite:');
  return undefined;
}

function settingName(key: string): string {
  const env = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
  return env ? `${env} (${key})` : key || 'config';
}
