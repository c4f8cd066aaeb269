/** Injection token of the resolved dashboard options. */
export const DASHBOARD_OPTIONS = 'SCHEDULED_COMMANDS_DASHBOARD_OPTIONS';
