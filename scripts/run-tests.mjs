// Runs every compiled test file (dist/test/**/*.test.js) in node's test runner.
// Extra arguments narrow the run to files whose path contains one of them.
// The run fails when a test fails, when a file registers no test, and when any test is skipped
// or marked todo: a test that does not run proves nothing.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const filters = process.argv.slice(2);
const files = walk('dist/test')
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'certplane-run-'));
const scoreFile = join(scratch, 'score.json');
const args = [
  '--enable-source-maps',
  '--test',
  '--test-concurrency=2',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${new URL('./test-guard.mjs', import.meta.url).pathname}`,
  `--test-reporter-destination=${scoreFile}`,
  ...files,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
let score;
try {
  score = JSON.parse(readFileSync(scoreFile, 'utf8'));
} catch {
  score = undefined;
}
rmSync(scratch, { recursive: true, force: true });
if (!score) {
  console.error('the test run left no score: did the runner crash?');
  process.exit(result.status || 1);
}

const problems = [];
let ran = 0;
for (const file of files) {
  // With source maps on, the runner names a test's file by its TypeScript source.
  const source = resolve(file.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts'));
  const entry = score[source] ?? score[resolve(file)];
  if (!entry || entry.tests === 0) {
    problems.push(`${file}: registers no test`);
    continue;
  }
  ran += entry.tests;
  for (const name of entry.skipped) problems.push(`${file}: "${name}" is skipped`);
  for (const name of entry.todo) problems.push(`${file}: "${name}" is marked todo`);
}
console.log(`\n${ran} tests ran in ${files.length} files; none may be skipped or todo.`);
if (problems.length > 0) {
  console.error(`\nThe run is not complete:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
