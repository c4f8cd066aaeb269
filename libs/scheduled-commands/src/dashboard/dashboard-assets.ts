import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A file of the dashboard's UI, read once. */
export interface DashboardAsset {
  readonly body: string;
  readonly contentType: string;
  /** Strong validator: a hash of the content. */
  readonly etag: string;
}

/**
 * The Content-Security-Policy of every dashboard page: scripts, styles, images and requests from the
 * dashboard's own origin only, no inline script or style, no framing.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/** The names the assets route serves (nothing else can be read through it). */
export const DASHBOARD_ASSET_NAMES: readonly string[] = Object.keys(TYPES);

/** Reads the UI files shipped next to this module (`assets/`). */
export function loadDashboardAssets(): ReadonlyMap<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const [name, contentType] of Object.entries(TYPES)) {
    const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The one HTML page (the views are drawn by `assets/app.js`). `base` is the dashboard's URL path
 * with a trailing slash, so that relative asset and API URLs work under any mount path.
 */
export function renderDashboardPage(base: string, title: string, refreshInterval: number): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<base href="${escapeHtml(base)}">
<title>${t}</title>
<link rel="icon" href="assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="assets/app.css">
<script type="module" src="assets/app.js"></script>
</head>
<body data-refresh="${refreshInterval}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">${t}</span>
<nav aria-label="Dashboard">
<a href="#/" data-nav="overview">Overview</a>
<a href="#/entries" data-nav="entries">Entries</a>
<a href="#/recurring" data-nav="recurring">Recurring</a>
</nav>
<span class="spacer"></span>
<span id="access" class="access"></span>
<button type="button" id="theme" class="ghost" aria-label="Switch light or dark mode">Theme</button>
</header>
<p id="flash" class="flash" role="status" aria-live="polite" hidden></p>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>The dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
}
