/** A signing thread that starts, takes jobs and never answers, as one stuck in native code would. */
import { parentPort } from 'node:worker_threads';
import { READY } from '../../src/adapters/crypto/signature-thread.js';

parentPort?.on('message', () => undefined);
parentPort?.postMessage(READY);
