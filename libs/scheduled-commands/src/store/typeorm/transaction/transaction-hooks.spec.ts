import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { TransactionHooks } from './transaction-hooks.js';

class Rollback extends Error {}

describe('TransactionHooks (SQLite)', () => {
  let dataSource: DataSource;
  let hooks: TransactionHooks;

  beforeEach(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
    }).initialize();
    hooks = TransactionHooks.of(dataSource);
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  const after = (calls: string[], name: string) => (runner: unknown) =>
    hooks.afterCommit(runner as never, () => calls.push(name));

  it('runs callbacks after the outermost commit, in order, and never after a rollback', async () => {
    const calls: string[] = [];
    await dataSource.transaction(async (manager) => {
      after(calls, 'a')(manager.queryRunner);
      after(calls, 'b')(manager.queryRunner);
      expect(calls).toEqual([]);
    });
    expect(calls).toEqual(['a', 'b']);
    await expect(
      dataSource.transaction(async (manager) => {
        after(calls, 'c')(manager.queryRunner);
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    await dataSource.transaction(async () => undefined);
    expect(calls).toEqual(['a', 'b']);
  });

  it('a savepoint released hands its callbacks to the enclosing transaction; one rolled back drops them', async () => {
    const calls: string[] = [];
    await dataSource.transaction(async (outer) => {
      after(calls, 'outer')(outer.queryRunner);
      await outer.transaction(async (inner) => {
        after(calls, 'kept')(inner.queryRunner);
      });
      expect(calls).toEqual([]);
      await expect(
        outer.transaction(async (inner) => {
          after(calls, 'dropped')(inner.queryRunner);
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
    });
    expect(calls).toEqual(['outer', 'kept']);
  });

  it('a throwing callback does not stop the others nor fail the commit', async () => {
    const calls: string[] = [];
    await dataSource.transaction(async (manager) => {
      hooks.afterCommit(manager.queryRunner!, () => {
        throw new Error('a failing callback (logged on purpose)');
      });
      after(calls, 'next')(manager.queryRunner);
    });
    expect(calls).toEqual(['next']);
  });

  it('settled() resolves when the transaction ends', async () => {
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    let settled = false;
    const waiting = hooks.settled(runner).then(() => (settled = true));
    await runner.commitTransaction();
    // Woken by the commit itself, not by the fallback timer (which has not fired yet).
    await Promise.resolve();
    expect(settled).toBe(true);
    await waiting;
    expect(runner.isTransactionActive).toBe(false);
  });

  it('is installed once per DataSource, and again after it was re-initialised', async () => {
    expect(TransactionHooks.of(dataSource)).toBe(hooks);
    expect(dataSource.subscribers.filter((s) => s === hooks)).toHaveLength(1);
    await dataSource.destroy();
    await dataSource.initialize();
    expect(dataSource.subscribers).not.toContain(hooks);
    expect(TransactionHooks.of(dataSource)).toBe(hooks);
    expect(dataSource.subscribers).toContain(hooks);
  });
});
