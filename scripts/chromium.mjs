#!/usr/bin/env node
/**
 * Chromium for the browser tests: Debian's `chromium` package, driven by playwright-core (which
 * downloads no browser of its own).
 *
 * As a module: `findChromium()` resolves the path of the Chromium executable, installing the package
 * with apt-get when it is missing and we are root on Debian/Ubuntu (as scripts/pg.mjs does for
 * PostgreSQL), so a fresh machine or CI needs nothing by hand. `CHROMIUM_PATH` selects another one.
 *
 * As a command: `node scripts/chromium.mjs` prints that path.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** Flags for a headless Chromium on a machine without network, as root, in a container. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
}

const found = () => CANDIDATES.find((p) => fs.existsSync(p)) ?? null;

/**
 * The Chromium executable.
 * @param {{ install?: boolean }} [options] install with apt-get when missing (default true)
 * @returns {Promise<string>}
 * @throws Error when none is found and it cannot be installed.
 */
export async function findChromium({ install = true } = {}) {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!fs.existsSync(chosen)) throw new Error(`CHROMIUM_PATH=${chosen} does not exist`);
    return chosen;
  }
  const existing = found();
  if (existing) return existing;
  if (!install || !isRoot() || !fs.existsSync('/etc/debian_version')) {
    throw new Error('Chromium not found; install it (Debian: apt-get install -y chromium)');
  }
  process.stderr.write('[chromium] not found; installing: apt-get update && apt-get install -y chromium\n');
  if ((await run('apt-get', ['update'])) !== 0) throw new Error('"apt-get update" failed');
  if ((await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'])) !== 0) {
    throw new Error('"apt-get install -y chromium" failed');
  }
  const installed = found();
  if (!installed) throw new Error('chromium was installed but its executable was not found');
  return installed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await findChromium());
}
