import type { OpenTelemetryApi } from './opentelemetry-api.js';

type SpanContext = NonNullable<ReturnType<OpenTelemetryApi['trace']['getSpanContext']>>;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** Longest `tracestate` kept (W3C allows 32 members of up to 256 characters; stores keep it short). */
const MAX_TRACE_STATE = 512;

/**
 * The span context as stored with an entry: a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`),
 * followed by a space and the `tracestate` when there is one. Independent of the propagators the
 * application configured, so that every instance reads what any other wrote.
 * @returns `null` for an invalid span context
 */
export function encodeTraceContext(api: OpenTelemetryApi, spanContext: SpanContext): string | null {
  if (!api.isSpanContextValid(spanContext)) return null;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const parent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const state = spanContext.traceState?.serialize();
  return state && state.length <= MAX_TRACE_STATE ? `${parent} ${state}` : parent;
}

/**
 * The remote span context stored by {@link encodeTraceContext}, or `null` when absent or unreadable.
 * Read once per run: one regular expression, no other validation pass.
 */
export function decodeTraceContext(
  api: OpenTelemetryApi,
  stored: string | null | undefined,
): SpanContext | null {
  if (!stored) return null;
  const space = stored.indexOf(' ');
  const match = TRACEPARENT.exec(space < 0 ? stored : stored.slice(0, space));
  // An all-zero trace or span id makes a traceparent invalid.
  if (!match || match[1] === api.INVALID_TRACEID || match[2] === api.INVALID_SPANID) return null;
  return {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16),
    isRemote: true,
    traceState: space < 0 ? undefined : api.createTraceState(stored.slice(space + 1)),
  };
}
