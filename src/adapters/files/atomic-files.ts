/**
 * Writes a deploy target's files so a server reading them never sees half a file: each goes to a
 * temporary file in the same directory (same filesystem, so the rename is atomic), created with
 * its final mode, written, fsynced, and renamed over the old one; then the directory is fsynced so
 * the rename survives a crash. A reader sees the old file or the new one, nothing in between.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployFile, DeployFiles } from '../../core/deploy/ports.js';

export const atomicFiles: DeployFiles = {
  async write(directory: string, files: readonly DeployFile[], options: { create?: boolean } = {}): Promise<void> {
    if (options.create) await mkdir(directory, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    for (const file of files) await writeOne(directory, file);
    const dir = await open(directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  },

  async problemWith(directory: string): Promise<string | undefined> {
    try {
      if (!(await stat(directory)).isDirectory()) return `${directory} is not a directory`;
      await access(directory, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? `${directory} does not exist` : code === 'EACCES' ? `${directory} is not writable by certplane` : `${directory}: ${(err as Error).message}`;
    }
  },
};

async function writeOne(directory: string, file: DeployFile): Promise<void> {
  const temp = join(directory, `.${file.name}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': never follows or reuses an existing path; the mode is the final one from the first byte.
  const handle = await open(temp, 'wx', file.mode);
  try {
    await handle.writeFile(file.content);
    await handle.chmod(file.mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, join(directory, file.name));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
