/** A signing thread whose code never finishes loading: it never says it is ready, and answers nothing. */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => undefined);
