/** The slice of a structured logger the core and adapters may use (pino satisfies it). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};

/**
 * Credential fields, wherever a logged object holds them: at the top, one level down, or in the
 * headers or query of a logged request (pino `redact` paths). A signature nonce is no secret and stays.
 */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  '["x-auth-token"]',
  'Signature',
  'signature',
  '*.authorization',
  '*["x-auth-token"]',
  '*.Signature',
  '*.signature',
  'headers.authorization',
  'headers["x-auth-token"]',
  '*.headers.authorization',
  '*.headers["x-auth-token"]',
  'query.Signature',
  '*.query.Signature',
  // The dns01 TSIG secret, should a settings object ever be logged.
  'tsigSecret',
  '*.tsigSecret',
];

export const REDACTED = '[redacted]';
