import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_ASSET_NAMES,
  loadDashboardAssets,
  renderDashboardPage,
} from './dashboard-assets.js';

describe('dashboard assets', () => {
  it('ship in the package, and the whole UI is under 150 KB gzipped', () => {
    const assets = loadDashboardAssets();
    expect([...assets.keys()]).toEqual(DASHBOARD_ASSET_NAMES);
    const page = renderDashboardPage('/jobs/', 'Scheduled commands', 3000);
    const gzipped = [page, ...[...assets.values()].map((a) => a.body)]
      .map((text) => gzipSync(text, { level: 9 }).length)
      .reduce((a, b) => a + b, 0);
    expect(gzipped).toBeGreaterThan(1_000);
    expect(gzipped).toBeLessThan(150 * 1024);
  });

  it('load nothing from another origin (no CDN) and use no inline handler or style', () => {
    const assets = loadDashboardAssets();
    const page = renderDashboardPage('/jobs/', 'Jobs', 3000);
    for (const text of [page, ...[...assets.values()].map((a) => a.body)]) {
      expect(text).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
      expect(text).not.toMatch(/@import|url\(\s*["']?https?:/i);
    }
    expect(page).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(assets.get('app.js')!.body).not.toMatch(/innerHTML|eval\(|new Function/);
  });

  it('escapes the title and the base path', () => {
    const page = renderDashboardPage('/a"b/', '<Jobs & co>', 3000);
    expect(page).toContain('<title>&lt;Jobs &amp; co&gt;</title>');
    expect(page).toContain('<base href="/a&quot;b/">');
  });
});
