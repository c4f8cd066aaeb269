#!/usr/bin/env node
/**
 * `npm test`: runs `vitest run` (extra arguments are passed on), with the default reporter on the
 * terminal and a JSON report in a temporary file, then prints as its very last line
 * `N passed, N failed` (plus `, N skipped` when some tests were skipped).
 *
 * Exits with vitest's exit code, and non-zero as well when no test ran at all.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const vitestPkgPath = require.resolve('vitest/package.json');
const vitestBin = path.join(
  path.dirname(vitestPkgPath),
  JSON.parse(fs.readFileSync(vitestPkgPath, 'utf8')).bin.vitest,
);

const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-test-'));
const reportFile = path.join(reportDir, 'report.json');

const child = spawn(
  process.execPath,
  [
    vitestBin,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

// Ctrl+C reaches vitest directly (same process group): just outlive it to print the summary. A CI
// timeout may send SIGTERM to us only: pass it on so vitest can stop its PostgreSQL server.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));

const exitCode = await new Promise((resolve) => {
  child.on('error', (error) => {
    console.error(`could not run vitest: ${error.message}`);
    resolve(1);
  });
  child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

let report;
try {
  report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
} catch {
  report = undefined;
} finally {
  fs.rmSync(reportDir, { recursive: true, force: true });
}

const passed = report?.numPassedTests ?? 0;
const failed = report?.numFailedTests ?? 0;
const skipped = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);

let finalCode = exitCode;
if (!report) {
  console.error('vitest wrote no JSON report (it was interrupted or failed to start; see above)');
  finalCode ||= 1;
} else {
  // Files that fail to load or throw outside a test are not counted as failed tests.
  const brokenFiles = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed'),
  ).length;
  if (brokenFiles > 0)
    console.error(`${brokenFiles} test file(s) failed outside of any test (see above)`);
  if (passed + failed === 0) {
    console.error('no test ran');
    finalCode ||= 1;
  }
}

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(finalCode);
