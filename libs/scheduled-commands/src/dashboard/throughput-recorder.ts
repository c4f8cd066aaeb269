import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../clock.js';
import { LifecycleEvents } from '../events/lifecycle-events.js';
import {
  ScheduledCommandCompletedEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One series of a throughput chart: counts per bucket, oldest bucket first. */
export interface ThroughputSeries {
  /** Length of one bucket in milliseconds. */
  readonly bucketMs: number;
  /** Start of the first bucket (ISO time). */
  readonly from: string;
  /** Commands completed per bucket. */
  readonly completed: number[];
  /** Failed attempts per bucket (dead-lettered, or to be retried). */
  readonly failed: number[];
}

/** Throughput over the last hour (per minute) and the last day (per hour). */
export interface Throughput {
  readonly hour: ThroughputSeries;
  readonly day: ThroughputSeries;
  /** Since when this instance has been counting (ISO time): nothing before it is known. */
  readonly since: string;
}

/**
 * Counts completions and failed attempts per minute, for the last 24 hours, from the lifecycle
 * events this instance publishes (its own worker's outcomes). It keeps at most 1,440 small buckets
 * and never queries the store, so the overview stays cheap on any table size.
 */
@Injectable()
export class ThroughputRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly buckets = new Map<number, { completed: number; failed: number }>();
  private stopListening?: () => void;
  private since = new Date(0);

  constructor(
    private readonly lifecycle: LifecycleEvents,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.since = this.clock.now();
    this.stopListening = this.lifecycle.listen((event) => {
      if (event instanceof ScheduledCommandCompletedEvent) this.count('completed');
      else if (
        event instanceof ScheduledCommandFailedEvent ||
        event instanceof ScheduledCommandRetryingEvent
      )
        this.count('failed');
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /** The two charts' series, ending with the bucket that holds now. */
  snapshot(): Throughput {
    const now = this.clock.now().getTime();
    this.prune(now);
    return {
      hour: this.series(now, MINUTE, 60),
      day: this.series(now, HOUR, 24),
      since: this.since.toISOString(),
    };
  }

  private count(kind: 'completed' | 'failed'): void {
    const minute = Math.floor(this.clock.now().getTime() / MINUTE);
    let bucket = this.buckets.get(minute);
    if (!bucket) {
      bucket = { completed: 0, failed: 0 };
      this.buckets.set(minute, bucket);
      if (this.buckets.size > 1_500) this.prune(minute * MINUTE);
    }
    bucket[kind]++;
  }

  private prune(now: number): void {
    const oldest = Math.floor((now - DAY) / MINUTE);
    for (const minute of this.buckets.keys()) if (minute <= oldest) this.buckets.delete(minute);
  }

  private series(now: number, bucketMs: number, count: number): ThroughputSeries {
    const last = Math.floor(now / bucketMs);
    const first = last - count + 1;
    const completed = new Array<number>(count).fill(0);
    const failed = new Array<number>(count).fill(0);
    for (const [minute, bucket] of this.buckets) {
      const i = Math.floor((minute * MINUTE) / bucketMs) - first;
      if (i < 0 || i >= count) continue;
      completed[i] += bucket.completed;
      failed[i] += bucket.failed;
    }
    return { bucketMs, from: new Date(first * bucketMs).toISOString(), completed, failed };
  }
}
