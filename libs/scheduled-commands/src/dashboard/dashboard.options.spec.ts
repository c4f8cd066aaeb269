import { describe, expect, it } from 'vitest';
import { InvalidModuleOptionsError } from '../errors/index.js';
import { ScheduledCommandsDashboardModule } from './dashboard.module.js';
import { resolveDashboardOptions } from './dashboard.options.js';

const access = () => 'all' as const;

describe('dashboard options', () => {
  it('refuses to start without an access function: never an open dashboard', () => {
    for (const bad of [undefined, {}, { path: 'jobs' }, { path: 'jobs', access: 'all' }]) {
      let error: unknown;
      try {
        ScheduledCommandsDashboardModule.forRoot(bad as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidModuleOptionsError);
      expect((error as InvalidModuleOptionsError).field).toBe('access');
      expect((error as Error).message).toMatch(/never open without one/);
    }
  });

  it('normalises the path and applies the defaults', () => {
    expect(resolveDashboardOptions({ path: '/admin/jobs/', access })).toEqual({
      path: 'admin/jobs',
      access,
      refreshInterval: 3_000,
      title: 'Scheduled commands',
    });
    expect(resolveDashboardOptions({ path: '', access }).path).toBe('');
  });

  it('names the field of an invalid path, refresh interval or title', () => {
    const field = (options: object) => {
      try {
        resolveDashboardOptions({ access, ...options } as never);
      } catch (e) {
        return (e as InvalidModuleOptionsError).field;
      }
      return null;
    };
    expect(field({ path: 'a b' })).toBe('path');
    expect(field({ path: '../x?y' })).toBe('path');
    expect(field({ path: 3 })).toBe('path');
    expect(field({ path: 'x', refreshInterval: 10 })).toBe('refreshInterval');
    expect(field({ path: 'x', title: '' })).toBe('title');
    expect(field({ path: 'x' })).toBeNull();
  });
});
