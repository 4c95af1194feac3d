/** A signing thread that takes jobs and never answers, as one stuck in native code would. */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => undefined);
