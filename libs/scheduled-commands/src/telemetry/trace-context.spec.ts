import * as api from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { decodeTraceContext, encodeTraceContext } from './trace-context.js';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';

describe('stored trace context', () => {
  it('round-trips a span context as a W3C traceparent, with its tracestate', () => {
    const spanContext = {
      traceId,
      spanId,
      traceFlags: api.TraceFlags.SAMPLED,
      traceState: api.createTraceState('vendor=a,other=b'),
    };
    const stored = encodeTraceContext(api, spanContext);
    expect(stored).toBe(`00-${traceId}-${spanId}-01 vendor=a,other=b`);
    const decoded = decodeTraceContext(api, stored)!;
    expect(decoded).toMatchObject({ traceId, spanId, traceFlags: 1, isRemote: true });
    expect(decoded.traceState?.get('other')).toBe('b');
    expect(decodeTraceContext(api, `00-${traceId}-${spanId}-00`)).toMatchObject({ traceFlags: 0 });
  });

  it('stores nothing for an invalid span context and reads nothing from an unreadable string', () => {
    expect(encodeTraceContext(api, api.INVALID_SPAN_CONTEXT)).toBeNull();
    for (const bad of [
      null,
      undefined,
      '',
      'garbage',
      `01-${traceId}-${spanId}-01`,
      `00-${'0'.repeat(32)}-${spanId}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
      `00-${traceId}-${spanId}`,
    ]) {
      expect(decodeTraceContext(api, bad)).toBeNull();
    }
  });
});
