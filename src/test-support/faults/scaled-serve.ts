/**
 * `switchyard serve` on an accelerated clock, for fault tests whose rollout must live minutes of
 * telemetry (per-minute rollups, soak times, guard persistence) in seconds. The composition is the
 * real one (`createSwitchyard`); only the clock differs, as in the demo (`ScaledClock`), except
 * that every process of a test shares one origin, so their clocks agree:
 *
 *   now = SWITCHYARD_FAULT_EPOCH_MS + (Date.now() - SWITCHYARD_FAULT_EPOCH_MS) × SWITCHYARD_FAULT_TIME_SCALE
 *
 * Timers stay real: intervals in the configuration (controller.tickMs, flush intervals, timeouts)
 * are real milliseconds; durations compared with the clock (soak hours, lease, drain timeout,
 * rollup grace, breaker window) are scaled ones.
 *
 * Usage: node --import tsx src/test-support/faults/scaled-serve.ts <config.yaml>
 */
import { createSwitchyard } from '../../app/compose.js';
import { loadConfig } from '../../config/load-config.js';
import { SharedScaledClock } from './scaled-clock.js';

const scale = Number(process.env.SWITCHYARD_FAULT_TIME_SCALE ?? '1');
const epochMs = Number(process.env.SWITCHYARD_FAULT_EPOCH_MS ?? Date.now());
const config = loadConfig(process.argv[2]);
const app = await createSwitchyard(config, { clock: new SharedScaledClock(scale, epochMs) });
const url = await app.listen();
app.logger.info({ url, timeScale: scale }, `Switchyard is listening on ${url} (clock x${scale})`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  app.logger.info({ signal }, 'shutting down');
  await app.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
