/** Marks the `$now` token in a compiled parameter map. */
export const NOW_PARAMETER = -1;

/** A statement compiled by {@link compileParameters}. */
export interface CompiledStatement {
  /** The SQL with every placeholder replaced. */
  readonly sql: string;
  /** For each placeholder left in `sql`, in order: the 0-based index of its parameter, or {@link NOW_PARAMETER}. */
  readonly order: readonly number[];
}

/**
 * Replaces the `$now` and `$1..$n` placeholders of `sql` (outside quoted strings and identifiers).
 * `replace` returns the text to put in place of a placeholder, and whether that text is itself a
 * positional placeholder whose value must be recorded in `order`.
 */
export function compileParameters(
  sql: string,
  replace: (index: number) => { text: string; positional: boolean },
): CompiledStatement {
  const order: number[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      // Copy a quoted string or identifier verbatim (a doubled quote stays inside it).
      let j = i + 1;
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '$') {
      const match = /^\$(now\b|\d+)/.exec(sql.slice(i, i + 12));
      if (match) {
        const index = match[1] === 'now' ? NOW_PARAMETER : Number(match[1]) - 1;
        const { text, positional } = replace(index);
        if (positional) order.push(index);
        out += text;
        i += match[0].length;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  return { sql: out, order };
}

/** A small cache of compiled statements: the store's statements are a fixed set of shapes. */
export class StatementCache {
  private readonly entries = new Map<string, CompiledStatement>();

  constructor(private readonly capacity = 500) {}

  /** The compiled form of `sql`, compiled with `compile` on first use. */
  get(sql: string, compile: (sql: string) => CompiledStatement): CompiledStatement {
    let compiled = this.entries.get(sql);
    if (!compiled) {
      compiled = compile(sql);
      // Statements built from a filter vary a little; keep the cache bounded all the same.
      if (this.entries.size >= this.capacity) this.entries.clear();
      this.entries.set(sql, compiled);
    }
    return compiled;
  }
}
