import { CommandDeserializationError, CommandSerializationError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';

/**
 * JSON encoding of command fields and results that keeps what plain JSON loses:
 * - a `Date` becomes `{"$date":"<ISO string>"}` and is rebuilt as a `Date`;
 * - a key of a plain object that starts with `$` is written with one more `$` (so user data can never
 *   be mistaken for a tag) and restored on reading.
 * Values JSON cannot carry faithfully (BigInt, functions, symbols, cycles, NaN/Infinity, invalid
 * dates, Map/Set and other exotic objects) are refused with a {@link CommandSerializationError} naming
 * the path of the value, so nothing is silently lost.
 * On reading, `__proto__`, `constructor` and `prototype` keys are dropped and every other key is
 * defined as an own data property, so stored JSON can never reach a prototype.
 */
const DATE_TAG = '$date';
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Describe = (path: string, reason: string) => Error;

function encodeValue(value: unknown, path: string, seen: Set<object>, fail: Describe): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw fail(path, `is ${value}, which JSON cannot carry`);
      return value;
    case 'undefined':
      return undefined;
    case 'bigint':
      throw fail(path, 'is a BigInt, which JSON cannot carry (store it as a string)');
    case 'function':
      throw fail(path, 'is a function, which cannot be stored');
    case 'symbol':
      throw fail(path, 'is a symbol, which cannot be stored');
  }
  if (value === null) return null;
  const obj = value as object;
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw fail(path, 'is an invalid Date');
    return { [DATE_TAG]: obj.toISOString() };
  }
  if (seen.has(obj)) throw fail(path, 'refers back to itself (a cycle), which JSON cannot carry');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return obj.map((item, i) => {
        const encoded = encodeValue(item, `${path}[${i}]`, seen, fail);
        return encoded === undefined ? null : encoded;
      });
    }
    if (
      obj instanceof Map ||
      obj instanceof Set ||
      obj instanceof WeakMap ||
      obj instanceof WeakSet
    ) {
      throw fail(
        path,
        `is a ${obj.constructor.name}, which JSON cannot carry (use an array or object)`,
      );
    }
    if (
      ArrayBuffer.isView(obj) ||
      obj instanceof ArrayBuffer ||
      obj instanceof Promise ||
      obj instanceof RegExp
    ) {
      throw fail(path, `is a ${obj.constructor.name}, which JSON cannot carry`);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      const encoded = encodeValue(
        (obj as Record<string, unknown>)[key],
        `${path}.${key}`,
        seen,
        fail,
      );
      if (encoded !== undefined) out[key.startsWith('$') ? `$${key}` : key] = encoded;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeValue);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === DATE_TAG) {
    const iso = (value as Record<string, unknown>)[DATE_TAG];
    const date = typeof iso === 'string' ? new Date(iso) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new TypeError(`invalid date ${JSON.stringify(iso)}`);
    return date;
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const name = fieldName(key);
    // A plain assignment creates an own data property: the only inherited setter of a plain object
    // is `__proto__`, which fieldName never passes on.
    if (name !== undefined) out[name] = decodeValue((value as Record<string, unknown>)[key]);
  }
  return out;
}

/** The field name a stored key stands for (unescaped), or `undefined` for a forbidden one. */
function fieldName(key: string): string | undefined {
  const name = key.startsWith('$$') ? key.slice(1) : key;
  return FORBIDDEN_KEYS.has(name) ? undefined : name;
}

/**
 * Encodes a command's own enumerable fields as JSON text.
 * @throws CommandSerializationError naming the path of a value that cannot be stored.
 */
export function serializeCommand(commandType: string, command: object): string {
  const fail: Describe = (path, reason) =>
    new CommandSerializationError(path, messages.unserializable(commandType, path, reason));
  return JSON.stringify(encodeValue(command, 'command', new Set(), fail));
}

/**
 * Encodes a handler's return value (`undefined` → `null`).
 * @throws CommandSerializationError when the value cannot be stored.
 */
export function serializeResult(commandType: string, result: unknown): string | null {
  if (result === undefined) return null;
  // The common results need no walk: no path to report, nothing to tag.
  if (
    result === null ||
    typeof result === 'string' ||
    typeof result === 'boolean' ||
    (typeof result === 'number' && Number.isFinite(result))
  ) {
    return JSON.stringify(result);
  }
  const fail: Describe = (path, reason) =>
    new CommandSerializationError(
      path,
      messages.unserializableResult(commandType, `${path} ${reason}`),
    );
  return JSON.stringify(encodeValue(result, 'result', new Set(), fail));
}

/** Decodes JSON written by {@link serializeCommand} / {@link serializeResult} (dates restored). */
export function deserializeValue(json: string): unknown {
  return decodeValue(JSON.parse(json));
}

/**
 * Rebuilds a command as an instance of `type` without calling its constructor: the stored fields are
 * defined as own properties of an object whose prototype is `type.prototype`.
 * @throws CommandDeserializationError when the payload is not valid JSON of an object.
 */
export function rebuildCommand<T extends object>(
  commandType: string,
  type: new (...args: never[]) => T,
  payload: string,
): T {
  let stored: unknown;
  try {
    stored = JSON.parse(payload);
  } catch (error) {
    throw corruptPayload(commandType, (error as Error).message);
  }
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) {
    throw corruptPayload(commandType, 'expected a JSON object');
  }
  const instance = Object.create(type.prototype) as T;
  const fields = stored as Record<string, unknown>;
  try {
    // Straight onto the instance (no intermediate copy), as own data properties: defining rather
    // than assigning never runs a setter or trips a getter-only accessor of the class.
    for (const key in fields) {
      if (!Object.hasOwn(fields, key)) continue;
      const name = fieldName(key);
      if (name === undefined) continue;
      FIELD.value = decodeValue(fields[key]);
      Object.defineProperty(instance, name, FIELD);
    }
  } catch (error) {
    throw corruptPayload(commandType, (error as Error).message);
  } finally {
    FIELD.value = undefined;
  }
  return instance;
}

/** The descriptor of every rebuilt field (one object, its value set before each define). */
const FIELD: PropertyDescriptor = {
  value: undefined,
  enumerable: true,
  writable: true,
  configurable: true,
};

function corruptPayload(commandType: string, reason: string): CommandDeserializationError {
  return new CommandDeserializationError(messages.corruptPayload(commandType, reason));
}
