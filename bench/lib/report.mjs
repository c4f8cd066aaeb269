/**
 * Percentiles, number formatting, tables on the terminal and the JSON result files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from './processes.mjs';

/** Nearest-rank percentile `p` (0..100) of `values`; `null` when empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** p50, p99 and max of `values`, rounded to 0.1. */
export function summary(values) {
  const r = (v) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    n: values.length,
    p50: r(percentile(values, 50)),
    p99: r(percentile(values, 99)),
    max: r(values.length ? Math.max(...values) : null),
  };
}

/** `1234567` → `1,234,567`; `12.34` → `12.3`. */
export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (typeof value !== 'number') return String(value);
  const abs = Math.abs(value);
  const d = abs >= 100 || Number.isInteger(value) ? 0 : digits;
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** `value / base` as `1.23×`, or `—`. */
export function ratio(value, base) {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return '—';
  return `${(value / base).toFixed(2)}×`;
}

/** The jobs/s of each run of a measurement, `20,000, 21,500, …`. */
export const runRates = (runs) => runs.map((x) => fmt(x.perSecond)).join(', ');

/** CPU µs per job of a measurement's median (or of one run), `worker + database`. */
export const cpuPerJob = (m) => `${m.workerCpuUsPerJob ?? '—'} + ${m.databaseCpuUsPerJob ?? '—'}`;

/** Prints a table (see {@link renderTable}) and returns its text. */
export function printTable(title, columns, rows, notes = []) {
  const text = renderTable(title, columns, rows, notes);
  console.log(text);
  return text;
}

/** A Markdown table: `columns` are `{ title, align? }`, rows are arrays of cells, `notes` follow it. */
export function renderTable(title, columns, rows, notes = []) {
  const cells = rows.map((row) =>
    row.map((c) => (c === null || c === undefined ? '—' : String(c))),
  );
  const widths = columns.map((col, i) =>
    Math.max(col.title.length, ...cells.map((r) => r[i].length)),
  );
  const line = (values) =>
    '| ' +
    values
      .map((v, i) => (columns[i].align === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join(' | ') +
    ' |';
  const out = [
    '',
    `### ${title}`,
    '',
    line(columns.map((c) => c.title)),
    '|' +
      widths
        .map((w, i) =>
          columns[i].align === 'left' ? ` ${'-'.repeat(w)} |` : ` ${'-'.repeat(w - 1)}: |`,
        )
        .join(''),
    ...cells.map(line),
    ...notes.map((n) => `\n${n}`),
  ];
  return out.join('\n');
}

/** Where the JSON results go (`bench/results/`, git-ignored but for `.gitkeep`). */
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/** Writes `data` as `bench/results/<name>.json` and returns the path. */
export function writeResult(name, data) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
