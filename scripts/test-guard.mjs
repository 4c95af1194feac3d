// A test reporter that keeps score per file, for run-tests.mjs: how many tests each file ran, and
// which were skipped or marked todo. It writes one JSON object when the run ends.
export default async function* guard(source) {
  const files = new Map();
  const fileOf = (name) => {
    if (!files.has(name)) files.set(name, { tests: 0, skipped: [], todo: [] });
    return files.get(name);
  };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail' && event.type !== 'test:enqueue') continue;
    const { name, file, skip, todo, details } = event.data;
    if (!file) continue;
    const entry = fileOf(file);
    // The runner reports each file as a test of its own; it is not one of the file's tests.
    if (event.type === 'test:enqueue' || name === file || details?.type === 'suite') continue;
    entry.tests += 1;
    if (skip !== undefined && skip !== false) entry.skipped.push(name);
    if (todo !== undefined && todo !== false) entry.todo.push(name);
  }
  yield `${JSON.stringify(Object.fromEntries(files))}\n`;
}
