// Runs the given node:test files one after the other, in the order given
// (`node --test` would sort them), with one TAP report and one summary.
// Exits non-zero when any test fails. Used by compat/run.sh.

import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import path from 'node:path';
import process from 'node:process';

const files = process.argv.slice(2).map((f) => path.resolve(f));
if (files.length === 0) {
  console.error('usage: node run-tests.mjs FILE...');
  process.exit(2);
}

const stream = run({ files, concurrency: 1 });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
