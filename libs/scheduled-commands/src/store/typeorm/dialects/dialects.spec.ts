import { describe, expect, it } from 'vitest';
import { POSTGRES_NOW_MS, PostgresDialect } from './postgres-dialect.js';
import { SqliteDialect } from './sqlite-dialect.js';
import { quoteTableName } from './sql-dialect.js';

describe('SqliteDialect.bind()', () => {
  it('turns $n and $now into positional parameters, in order of appearance', () => {
    let reads = 0;
    const dialect = new SqliteDialect({ nowMs: () => 1_000 + reads++ });
    const params = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];
    const bound = dialect.bind('SELECT $2, $now, $1, $2, $11, $10 + $now', params);
    expect(bound.sql).toBe('SELECT ?, ?, ?, ?, ?, ? + ?');
    // The clock is read once per statement: every $now is the same time.
    expect(bound.params).toEqual(['b', 1_000, 'a', 'b', 'k', 'j', 1_000]);
    expect(dialect.bind('SELECT $now', []).params).toEqual([1_001]);
  });

  it('leaves quoted strings and identifiers alone', () => {
    const dialect = new SqliteDialect({ nowMs: () => 5 });
    const bound = dialect.bind(`SELECT '$1 it''s $now', "$2" FROM t WHERE a = $1`, ['x']);
    expect(bound.sql).toBe(`SELECT '$1 it''s $now', "$2" FROM t WHERE a = ?`);
    expect(bound.params).toEqual(['x']);
  });
});

describe('PostgresDialect.bind()', () => {
  it('keeps $n and puts the database clock in place of $now', () => {
    const bound = new PostgresDialect().bind('SELECT $1 WHERE t <= $now', [7]);
    expect(bound.sql).toBe(`SELECT $1 WHERE t <= ${POSTGRES_NOW_MS}`);
    expect(bound.params).toEqual([7]);
    expect(POSTGRES_NOW_MS).toContain('statement_timestamp()');
  });
});

describe('quoteTableName()', () => {
  it('quotes each part of a dotted name and escapes quotes', () => {
    expect(quoteTableName('scheduled_commands')).toBe('"scheduled_commands"');
    expect(quoteTableName('jobs.scheduled_commands')).toBe('"jobs"."scheduled_commands"');
    expect(quoteTableName('we"ird')).toBe('"we""ird"');
  });
});
