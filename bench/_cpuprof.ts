/**
 * Preload for profiling a child process where `--cpu-prof` cannot be passed (Node 20 refuses it in
 * NODE_OPTIONS): `NODE_OPTIONS="--import /abs/dist/bench/_cpuprof.js"` with CERTPLANE_BENCH_CPUPROF_DIR
 * set. Starts the V8 sampling profiler through node:inspector and writes a Chrome-format
 * `.cpuprofile` into that directory when the process exits (a same-thread inspector session answers
 * synchronously, so this works inside the 'exit' handler).
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.CERTPLANE_BENCH_CPUPROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) {
        process.stderr.write(`cpuprof: ${err.message}\n`);
        return;
      }
      writeFileSync(join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
