/**
 * `@opentelemetry/api`, an optional peer dependency: loaded when the application has it installed,
 * and otherwise absent (telemetry then stays off and costs nothing).
 */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** Loads `@opentelemetry/api`, or resolves to `null` when it is not installed. */
export async function loadOpenTelemetryApi(): Promise<OpenTelemetryApi | null> {
  try {
    return await import('@opentelemetry/api');
  } catch {
    return null;
  }
}
