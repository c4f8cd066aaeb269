import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (the monorepo). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const LIBRARY_DIR = join(REPO_ROOT, 'libs', 'scheduled-commands');
const LOCK_DIR = join(tmpdir(), 'nestjs-scheduled-commands-fault-tests.lock');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the lock directory when its owner process is gone (a test run that was killed). */
function removeIfStale(): void {
  let owner: number;
  try {
    owner = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
  } catch {
    // Created but the owner has not written its pid yet, or it died in between: give it 10 s.
    try {
      if (Date.now() - statSync(LOCK_DIR).mtimeMs > 10_000)
        rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch {
      // Removed meanwhile.
    }
    return;
  }
  if (!isAlive(owner)) rmSync(LOCK_DIR, { recursive: true, force: true });
}

/**
 * Takes the machine-wide lock of the fault tests (a directory in the OS temp dir holding the owner's
 * pid). The fault scenarios each start several Node processes and time leases in seconds: running
 * them one at a time keeps the load, and so the timing, what each scenario expects. A lock whose
 * owner process is dead is taken over.
 *
 * @param timeoutMs how long to wait for the lock. @default 280_000
 * @returns the function that releases the lock (safe to call more than once).
 * @throws Error when the lock is not obtained within `timeoutMs`.
 */
export async function acquireFaultLock(timeoutMs = 280_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(LOCK_DIR, { recursive: true, force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    removeIfStale();
    if (Date.now() > deadline) {
      throw new Error(`the fault-test lock ${LOCK_DIR} was not released within ${timeoutMs} ms`);
    }
    await sleep(250);
  }
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether `dist/` is missing or older than a source file or a tsconfig it is built from. */
function buildIsStale(): boolean {
  const built = join(LIBRARY_DIR, 'dist', 'index.js');
  if (!existsSync(built)) return true;
  const sources = Math.max(
    newestSourceMtime(join(LIBRARY_DIR, 'src')),
    statSync(join(LIBRARY_DIR, 'tsconfig.lib.json')).mtimeMs,
    statSync(join(REPO_ROOT, 'tsconfig.json')).mtimeMs,
  );
  return statSync(built).mtimeMs < sources;
}

/**
 * Builds the library package (`npm run build -w nestjs-scheduled-commands`) when its `dist/` is
 * missing or older than its sources, so that the worker processes, which are plain Node importing
 * the package by name, run the current code. Call it while holding {@link acquireFaultLock}: the
 * build empties `dist/` first.
 *
 * @throws Error with the compiler output when the build fails.
 */
export async function buildLibrary(): Promise<void> {
  if (!buildIsStale()) return;
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npm',
      ['run', 'build', '-w', 'nestjs-scheduled-commands'],
      { cwd: REPO_ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`building the library failed: ${error.message}\n${stdout}\n${stderr}`));
        } else {
          resolve();
        }
      },
    );
  });
}
