/** The benchmark's upstream: the provider simulator at zero latency, in its own process. */
import { startSimulator } from '../src/simulator/index.js';

const sim = await startSimulator({ seed: 1, models: { 'sim-bench': {}, 'sim-bench-2': {} } });
process.send?.({ url: sim.url });
process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
