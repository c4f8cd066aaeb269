import { describe, expect, it } from 'vitest';
import { CommandDeserializationError, CommandSerializationError } from '../errors/index.js';
import {
  deserializeValue,
  rebuildCommand,
  serializeCommand,
  serializeResult,
} from './command-serializer.js';

class Line {
  constructor(
    readonly sku: string,
    readonly qty: number,
  ) {}
}

class PlaceOrder {
  constructor(
    readonly orderId: string,
    readonly at: Date,
    readonly lines: Line[],
    readonly extra: { nested: { when: Date; tags: string[] }; $ref: string; $date: string },
  ) {}
  describe(): string {
    return `${this.orderId}@${this.at.toISOString()}`;
  }
}

describe('command serializer', () => {
  it('round-trips Dates, nested objects, arrays and $-keys, rebuilding the registered class', () => {
    const at = new Date('2026-11-27T10:00:00.123Z');
    const when = new Date('2027-01-01T00:00:00.000Z');
    const cmd = new PlaceOrder('o-1', at, [new Line('a', 2), new Line('b', 1)], {
      nested: { when, tags: ['x', 'y'] },
      $ref: 'keep me',
      $date: 'not a date',
    });
    const rebuilt = rebuildCommand('place-order', PlaceOrder, serializeCommand('place-order', cmd));
    expect(rebuilt).toBeInstanceOf(PlaceOrder);
    expect(rebuilt.describe()).toBe('o-1@2026-11-27T10:00:00.123Z');
    expect(rebuilt.at).toBeInstanceOf(Date);
    expect(rebuilt.at.getTime()).toBe(at.getTime());
    expect(rebuilt.extra.nested.when).toBeInstanceOf(Date);
    expect(rebuilt.extra.nested.when.getTime()).toBe(when.getTime());
    expect(rebuilt.lines).toEqual([
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 1 },
    ]);
    expect(rebuilt.extra.$ref).toBe('keep me');
    expect(rebuilt.extra.$date).toBe('not a date');
  });

  it.each([
    ['a BigInt', { n: 1n }, 'command.n'],
    ['a function', { f: () => 1 }, 'command.f'],
    ['a symbol', { s: Symbol('x') }, 'command.s'],
    ['NaN', { n: NaN }, 'command.n'],
    ['Infinity', { deep: [{ n: Infinity }] }, 'command.deep[0].n'],
    ['an invalid Date', { d: new Date('nope') }, 'command.d'],
    ['a Map', { m: new Map() }, 'command.m'],
    ['a Set', { s: new Set([1]) }, 'command.s'],
  ])('refuses %s with a CommandSerializationError naming the path', (_label, value, path) => {
    let error: unknown;
    try {
      serializeCommand('bad', value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CommandSerializationError);
    expect((error as CommandSerializationError).path).toBe(path);
    expect((error as Error).message).toContain('"bad"');
    expect((error as Error).message).toContain(path);
  });

  it('refuses cycles but accepts the same object twice without a cycle', () => {
    const shared = { a: 1 };
    expect(() => serializeCommand('ok', { x: shared, y: shared })).not.toThrow();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => serializeCommand('bad', cyclic)).toThrow(/cycle/);
  });

  it('never lets __proto__ or constructor keys from stored JSON reach a prototype', () => {
    class Target {}
    const payload =
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"nested":{"__proto__":{"polluted":true}},"ok":1}';
    const rebuilt = rebuildCommand('t', Target, payload) as Record<string, unknown>;
    expect(Object.getPrototypeOf(rebuilt)).toBe(Target.prototype);
    expect(rebuilt.ok).toBe(1);
    expect(rebuilt.polluted).toBeUndefined();
    expect(rebuilt.constructor).toBe(Target);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((rebuilt.nested as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(rebuilt.nested)).toBe(Object.prototype);
  });

  it('defines stored fields as own properties without running the class accessors', () => {
    const calls: string[] = [];
    class Target {
      set name(value: string) {
        calls.push(value);
      }
      get fixed(): number {
        return 1;
      }
    }
    const rebuilt = rebuildCommand('t', Target, '{"name":"stored","fixed":2,"$$cost":3}');
    expect(calls).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(rebuilt, 'name')).toMatchObject({
      value: 'stored',
      writable: true,
      enumerable: true,
    });
    expect(rebuilt.fixed).toBe(2);
    expect(Object.keys(rebuilt)).toEqual(['name', 'fixed', '$cost']);
  });

  it('reports unreadable payloads as CommandDeserializationError', () => {
    class Target {}
    expect(() => rebuildCommand('t', Target, '{not json')).toThrow(CommandDeserializationError);
    expect(() => rebuildCommand('t', Target, '[1,2]')).toThrow(/expected a JSON object/);
    expect(() => rebuildCommand('t', Target, '{"d":{"$date":"garbage"}}')).toThrow(/invalid date/);
  });

  it('serialises results, undefined as null', () => {
    expect(serializeResult('r', undefined)).toBeNull();
    const at = new Date('2026-01-02T03:04:05.006Z');
    expect(deserializeValue(serializeResult('r', { at, n: [1, 2] }) as string)).toEqual({
      at,
      n: [1, 2],
    });
    expect(deserializeValue(serializeResult('r', 'text') as string)).toBe('text');
    for (const value of [0, -1.5, false, true, null, '', 'a "quoted" $date'])
      expect(deserializeValue(serializeResult('r', value) as string)).toBe(value);
    expect(() => serializeResult('r', { big: 2n })).toThrow(CommandSerializationError);
    for (const value of [NaN, Infinity, 2n])
      expect(() => serializeResult('r', value)).toThrow(CommandSerializationError);
  });
});
