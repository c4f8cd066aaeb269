import { SCHEDULED_COMMAND_STATUSES, type StatusCounts } from '../store/scheduled-command-entry.js';
import type { OpenTelemetryApi } from './opentelemetry-api.js';
import { ATTR, MESSAGING_SYSTEM, METRIC, TELEMETRY_SCOPE } from './telemetry-names.js';

type MeterProvider = ReturnType<OpenTelemetryApi['metrics']['getMeterProvider']>;
type Meter = ReturnType<MeterProvider['getMeter']>;
type Counter = ReturnType<Meter['createCounter']>;
type Histogram = ReturnType<Meter['createHistogram']>;
type Attributes = Record<string, string>;

/** Bucket boundaries in seconds, from 5 ms to 5 minutes (the SDK default stops at 10 s in ms units). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Reads the number of entries per status for the `scheduled_commands.entries` gauge, at most once
 * per `intervalMs` whatever the scrape rate: a scrape in between reports the figures of the last read,
 * and concurrent scrapes share one read.
 */
export class StatusCountsReader {
  private last: StatusCounts | null = null;
  private readAt = -Infinity;
  private pending: Promise<StatusCounts | null> | null = null;

  constructor(
    private readonly read: () => Promise<StatusCounts>,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The counts, read again when the last read is older than the interval; `null` until one succeeds. */
  counts(): Promise<StatusCounts | null> {
    if (this.now() - this.readAt < this.intervalMs) return Promise.resolve(this.last);
    this.pending ??= this.read()
      .then(
        (counts) => {
          this.last = counts;
          return counts;
        },
        // An unreachable store: no figure rather than an old one presented as current.
        () => (this.last = null),
      )
      .finally(() => {
        this.readAt = this.now();
        this.pending = null;
      });
    return this.pending;
  }
}

/**
 * The metric instruments, made from one meter provider. Attribute objects are made once per command
 * type (a bounded set: the registered names) and reused, so recording allocates nothing of ours.
 *
 * The SDK hashes the attributes of every recording, so the per-run counter is added once per
 * batch: runs started in one turn of the event loop (a claimed batch) are tallied, and the tally
 * is added with one `add(n)` per command type in a microtask, before any later code can read it.
 */
export class CommandInstruments {
  private readonly sent: Counter;
  private readonly consumed: Counter;
  private readonly duration: Histogram;
  private readonly lateness: Histogram;
  private readonly retries: Counter;
  private readonly deadLetters: Counter;
  private readonly expiries: Counter;
  private readonly byType = new Map<string, Record<string, Attributes>>();
  /** Runs started in this turn of the event loop and not added yet, by command type. */
  private readonly startedTally = new Map<string, number>();
  private readonly addStarted = (): void => {
    for (const [commandType, count] of this.startedTally) {
      this.consumed.add(count, this.attributes(commandType, 'process'));
    }
    this.startedTally.clear();
  };

  constructor(
    readonly provider: MeterProvider,
    meter: Meter,
    statusCounts: StatusCountsReader | null,
  ) {
    const counter = (name: string, description: string) =>
      meter.createCounter(name, { description, unit: '{message}' });
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
      });
    this.sent = counter(METRIC.sent, 'Commands scheduled (stored) by this instance.');
    this.consumed = counter(
      METRIC.consumed,
      'Command runs started by this instance (each attempt counts).',
    );
    this.duration = seconds(
      METRIC.processDuration,
      'How long a command run took, from its start to its outcome.',
    );
    this.lateness = seconds(
      METRIC.lateness,
      'How late a run started: its start time minus its due time.',
    );
    this.retries = counter(METRIC.retries, 'Failed attempts that will be retried.');
    this.deadLetters = counter(METRIC.deadLetters, 'Commands dead-lettered (failed for good).');
    this.expiries = counter(METRIC.expired, 'Commands that expired before they started.');
    if (statusCounts) {
      meter
        .createObservableGauge(METRIC.entries, {
          description:
            'Entries per status in the store (read at a bounded rate; every instance reporting it sees the same table).',
          unit: '{message}',
        })
        .addCallback(async (result) => {
          const counts = await statusCounts.counts();
          if (!counts) return;
          for (const status of SCHEDULED_COMMAND_STATUSES) {
            result.observe(counts[status], { [ATTR.status]: status });
          }
        });
    }
  }

  /** `count` commands of `commandType` were stored. */
  recordSent(commandType: string, count = 1): void {
    this.sent.add(count, this.attributes(commandType, 'send'));
  }

  /** A run started, `latenessMs` after its due time. */
  recordStarted(commandType: string, latenessMs: number): void {
    if (this.startedTally.size === 0) queueMicrotask(this.addStarted);
    this.startedTally.set(commandType, (this.startedTally.get(commandType) ?? 0) + 1);
    this.lateness.record(Math.max(0, latenessMs) / 1000, this.attributes(commandType, 'type'));
  }

  /** A run ended with `outcome` after `seconds`. */
  recordProcessed(commandType: string, outcome: string, seconds: number): void {
    this.duration.record(seconds, this.attributes(commandType, outcome));
  }

  recordRetry(commandType: string): void {
    this.retries.add(1, this.attributes(commandType, 'type'));
  }

  recordDeadLetter(commandType: string): void {
    this.deadLetters.add(1, this.attributes(commandType, 'type'));
  }

  recordExpired(commandType: string): void {
    this.expiries.add(1, this.attributes(commandType, 'type'));
  }

  /**
   * The attributes of one command type, for one use: `send`, `process` (operation), `type` (the
   * type alone) or a run outcome.
   */
  private attributes(commandType: string, use: string): Attributes {
    let sets = this.byType.get(commandType);
    if (!sets) this.byType.set(commandType, (sets = {}));
    return (sets[use] ??= attributesFor(commandType, use));
  }
}

function attributesFor(commandType: string, use: string): Attributes {
  const base = { [ATTR.system]: MESSAGING_SYSTEM, [ATTR.destination]: commandType };
  if (use === 'type') return base;
  if (use === 'send' || use === 'process') {
    return { ...base, [ATTR.operationName]: use, [ATTR.operationType]: use };
  }
  return {
    ...base,
    [ATTR.operationName]: 'process',
    [ATTR.operationType]: 'process',
    [ATTR.outcome]: use,
  };
}

/** The meter of this library from `provider`, or `null` when `provider` is the API's no-op one. */
export function meterFrom(api: OpenTelemetryApi, provider: MeterProvider): Meter | null {
  const meter = provider.getMeter(TELEMETRY_SCOPE);
  return meter instanceof (api.createNoopMeter().constructor as new () => Meter) ? null : meter;
}
