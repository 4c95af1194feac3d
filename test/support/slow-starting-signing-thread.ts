/** The real signing thread, whose code takes 600 ms to load, as on a machine busy with other work. */
const loadedAt = Date.now() + 600;
while (Date.now() < loadedAt) {
  // loading
}
await import('../../src/adapters/crypto/signature-thread-worker.js');
