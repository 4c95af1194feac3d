/**
 * Configuration files for the settings tests: written into one temp directory of the test process,
 * which goes when the process exits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.js';

let dir: string | undefined;
let written = 0;

/** A config.json holding `content` as JSON; its path. */
export function configFile(content: unknown): string {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'certplane-config-'));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  const path = join(dir, `config-${++written}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** The problems loadConfig names for a file of `content` (and `env`); fails when it loads. */
export function configProblems(content: unknown, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ env, configFile: configFile(content) });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}
