// `npm run bench -- NAME`: runs dist/bench/NAME.js (built by `npm run bench`).
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const available = existsSync('dist/bench')
  ? readdirSync('dist/bench').filter((f) => f.endsWith('.js') && !f.startsWith('_')).map((f) => f.slice(0, -3))
  : [];
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (NAME is one of: ${available.join(', ') || 'none built'})`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', `dist/bench/${name}.js`, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
