import type { Command } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import { note, out, printJson, printTable } from './output.js';

const when = (hour: number) => {
  const day = Math.floor(hour / 24);
  const h = hour - day * 24;
  return `day ${String(day).padStart(2)} ${String(Math.floor(h)).padStart(2, '0')}:${String(Math.round((h % 1) * 60)).padStart(2, '0')}`;
};

/** `switchyard simulate`: a whole upgrade event on a fake clock, printed as a timeline. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run a whole upgrade event (fleet, versions, traffic, timeline) on a fake clock')
    .argument('<scenario>', 'scenario YAML (see examples/scenarios/ and src/simulation/scenario.ts)')
    .option('--json', 'print the result as JSON instead of the timeline')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { loadScenario } = await import('../simulation/scenario.js');
      const { runSimulation } = await import('../simulation/run-simulation.js');
      const { isSwitchyardError } = await import('../shared/errors.js');
      let scenario: Awaited<ReturnType<typeof loadScenario>>;
      try {
        scenario = await loadScenario(file);
      } catch (e) {
        if (isSwitchyardError(e))
          throw new CliError(
            `${e.message}${e.details.map((d) => `\n  ${d.path}: ${d.message}`).join('')}`,
            EXIT.invalid,
          );
        throw e;
      }
      if (!opts.json)
        note(
          `simulating ${scenario.name ?? file}: ${scenario.days} days, ${scenario.tickMinutes}-minute ticks`,
        );
      const result = await runSimulation(scenario, {
        ...(opts.json
          ? {}
          : {
              onEntry: (e) =>
                out(
                  `${when(e.hour)}  ${e.tenantId.padEnd(22)} ${e.from} -> ${e.to}${e.detail ? `\n${' '.repeat(33)}${e.detail}` : ''}`,
                ),
            }),
      });
      if (opts.json) return printJson(result);
      out('');
      printTable(
        ['tenant', 'group', 'outcome', 'reason', 'sessions', 'on candidate'],
        result.tenants.map((t) => [t.tenantId, t.group, t.phase, t.reason, t.sessions, t.canarySessions]),
        'no tenant took part',
      );
      if (result.incidents.length > 0) {
        out('');
        printTable(
          ['incident', 'tenant', 'trigger'],
          result.incidents.map((i) => [i.id, i.tenantId, i.trigger]),
          '',
        );
      }
      note(
        `simulated ${((result.endMs - result.startMs) / 86_400_000).toFixed(1)} days in ${(result.realMs / 1000).toFixed(1)} s`,
      );
    });
}
