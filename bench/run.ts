/**
 * Runs benchmarks one after another (each in its own process, so one's load does not skew the
 * next) and leaves their results in bench/results/. `npm run bench` runs them all; name some to
 * run only those: `npm run bench -- gateway guard-detection`. Arguments after `--args` go to each.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const here = new URL('.', import.meta.url).pathname;
const all = readdirSync(here)
  .filter((f) => f.endsWith('-bench.ts'))
  .map((f) => f.replace(/-bench\.ts$/, ''))
  .sort();
const argv = process.argv.slice(2);
const split = argv.indexOf('--args');
const names = split === -1 ? argv : argv.slice(0, split);
const extra = split === -1 ? [] : argv.slice(split + 1);
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of names.length > 0 ? names : all) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}${name}-bench.ts`, ...extra], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`${name}: exited with ${r.status ?? r.signal}`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
