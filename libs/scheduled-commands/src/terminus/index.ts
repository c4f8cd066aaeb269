export {
  ScheduledCommandsHealthIndicator,
  type ScheduledCommandsHealthDetails,
  type ScheduledCommandsHealthFailure,
  type ScheduledCommandsHealthOptions,
} from './scheduled-commands-health.indicator.js';
