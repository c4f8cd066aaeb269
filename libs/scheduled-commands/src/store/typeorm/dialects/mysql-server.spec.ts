import { describe, expect, it } from 'vitest';
import { UnsupportedDatabaseError } from '../../../errors/unsupported-database.error.js';
import {
  assertSupportedSettings,
  assertSupportedVersion,
  inspectServer,
  parseServerVersion,
  retryOnDeadlock,
  type DeadlockCounter,
} from './mysql-server.js';

const deadlock = () =>
  Object.assign(new Error('Deadlock found when trying to get lock'), { errno: 1213 });

describe('MySQL/MariaDB server checks', () => {
  it('tells MariaDB from MySQL and reads the release', () => {
    expect(parseServerVersion('10.11.19-MariaDB-0+deb12u1')).toMatchObject({
      flavor: 'mariadb',
      version: [10, 11, 19],
    });
    expect(parseServerVersion('5.5.5-10.6.4-MariaDB-log')).toMatchObject({
      flavor: 'mariadb',
      version: [10, 6, 4],
    });
    expect(parseServerVersion('8.0.35-27')).toMatchObject({ flavor: 'mysql', version: [8, 0, 35] });
    expect(parseServerVersion('8.4.0-log')).toMatchObject({ flavor: 'mysql', version: [8, 4, 0] });
    expect(parseServerVersion('unknown')).toBeUndefined();
  });

  it('accepts MariaDB 10.6+ and MySQL 8.0.1+, and rejects older servers with a typed error', () => {
    for (const ok of [
      '10.6.0-MariaDB',
      '10.11.19-MariaDB-0+deb12u1',
      '11.4.2-MariaDB',
      '8.0.1',
      '8.4.3',
      '9.1.0',
    ]) {
      expect(() => assertSupportedVersion(ok)).not.toThrow();
    }
    for (const old of [
      '10.5.23-MariaDB',
      '10.4.0-MariaDB-log',
      '8.0.0-dmr',
      '5.7.44-log',
      'garbage',
    ]) {
      const error = (() => {
        try {
          assertSupportedVersion(old);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UnsupportedDatabaseError);
      expect(error).toMatchObject({ setting: 'version', found: old });
      expect((error as Error).message).toContain('MariaDB 10.6+ or MySQL 8.0.1+');
    }
  });

  it('rejects a statement-based binary log, under which READ COMMITTED writes fail', () => {
    expect(() => assertSupportedSettings({ log_bin: 'ON', binlog_format: 'STATEMENT' })).toThrow(
      UnsupportedDatabaseError,
    );
    expect(() =>
      assertSupportedSettings({ log_bin: 'OFF', binlog_format: 'STATEMENT' }),
    ).not.toThrow();
    expect(() => assertSupportedSettings({ log_bin: 'ON', binlog_format: 'ROW' })).not.toThrow();
    expect(() => assertSupportedSettings({ log_bin: 'ON', binlog_format: 'MIXED' })).not.toThrow();
  });

  it('inspects a server through its queries', async () => {
    const asked: string[] = [];
    const query = async (sql: string) => {
      asked.push(sql);
      return sql.startsWith('SELECT VERSION')
        ? [{ version: '10.4.32-MariaDB' }]
        : [{ Variable_name: 'log_bin', Value: 'OFF' }];
    };
    await expect(inspectServer(query)).rejects.toMatchObject({ setting: 'version' });
    expect(asked).toHaveLength(1);
  });
});

describe('retryOnDeadlock', () => {
  it('runs the transaction again after a deadlock and counts it', async () => {
    const counter: DeadlockCounter = { retried: 0, gaveUp: 0 };
    let calls = 0;
    const result = await retryOnDeadlock(async () => {
      if (++calls < 3) throw deadlock();
      return 'done';
    }, counter);
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(counter).toEqual({ retried: 2, gaveUp: 0 });
  });

  it('gives up after the bound and counts that too', async () => {
    const counter: DeadlockCounter = { retried: 0, gaveUp: 0 };
    let calls = 0;
    await expect(
      retryOnDeadlock(
        async () => {
          calls++;
          throw deadlock();
        },
        counter,
        3,
      ),
    ).rejects.toMatchObject({ errno: 1213 });
    expect(calls).toBe(3);
    expect(counter).toEqual({ retried: 2, gaveUp: 1 });
  });

  it('does not retry other errors, also when wrapped by TypeORM', async () => {
    const counter: DeadlockCounter = { retried: 0, gaveUp: 0 };
    let calls = 0;
    const duplicate = Object.assign(new Error('QueryFailedError'), {
      driverError: { errno: 1062 },
    });
    await expect(
      retryOnDeadlock(async () => {
        calls++;
        throw duplicate;
      }, counter),
    ).rejects.toBe(duplicate);
    expect(calls).toBe(1);
    expect(counter).toEqual({ retried: 0, gaveUp: 0 });
  });
});
