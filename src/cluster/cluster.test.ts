import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { cliEntry } from './cli-entry.js';
import { Cluster, type ClusterOptions, clusterProblems, planCluster } from './cluster.js';

const scaled = (extra: Record<string, unknown> = {}) =>
  validateConfig(
    { storage: { driver: 'postgres' }, cache: { driver: 'redis' }, ...extra },
    { SWITCHYARD_DATABASE_URL: 'postgres://x@127.0.0.1/x', SWITCHYARD_REDIS_URL: 'redis://127.0.0.1:6379' },
  );
const silent = { info() {}, warn() {}, error() {} };
const options = (o: Partial<ClusterOptions> = {}): ClusterOptions => ({
  configFile: '/etc/switchyard/scaled.yaml',
  config: scaled(),
  gateways: 3,
  controllers: 2,
  log: silent,
  env: { PATH: '/usr/bin' },
  entry: { execArgv: ['--import', 'file:///tsx/loader.mjs'], script: '/app/src/cli/main.ts' },
  ...o,
});

describe('switchyard cluster', () => {
  it('refuses a configuration processes cannot share, saying why', () => {
    expect(clusterProblems(scaled())).toEqual([]);
    const embedded = validateConfig({});
    expect(clusterProblems(embedded)).toEqual([
      expect.stringMatching(/^storage.driver is sqlite: .*must be postgres/),
      expect.stringMatching(/^cache.driver is memory: .*must be redis/),
    ]);
    expect(clusterProblems(scaled({ demo: { enabled: true } }))).toEqual([
      expect.stringMatching(/demo.enabled is true/),
    ]);
    expect(() => new Cluster(options({ config: embedded }))).toThrow(/must be postgres/);
    expect(() => new Cluster(options({ gateways: 0 }))).toThrow(/at least one gateway/);
  });

  it('plans gateways on the ports after server.port and controllers after them, each a serve --role child', () => {
    const plan = planCluster(options());
    expect(plan.map((p) => [p.name, p.role, p.port])).toEqual([
      ['gateway-1', 'gateway', 8081],
      ['gateway-2', 'gateway', 8082],
      ['gateway-3', 'gateway', 8083],
      ['controller-1', 'controller', 8084],
      ['controller-2', 'controller', 8085],
    ]);
    expect(plan[3]?.command).toBe(process.execPath);
    expect(plan[3]?.args).toEqual([
      '--import',
      'file:///tsx/loader.mjs',
      '/app/src/cli/main.ts',
      'serve',
      '--config',
      '/etc/switchyard/scaled.yaml',
      '--role',
      'controller',
      '--no-demo',
    ]);
    expect(plan[0]?.env).toEqual({ PATH: '/usr/bin', SWITCHYARD_PORT: '8081' });
    expect(planCluster(options({ basePort: 9000, gateways: 1, controllers: 1 })).map((p) => p.port)).toEqual([
      9001, 9002,
    ]);
    expect(planCluster(options({ basePort: 0 })).every((p) => p.port === 0)).toBe(true);
    expect(() => planCluster(options({ basePort: 65_534 }))).toThrow(/choose a lower base port/);
  });

  it('starts children the way the CLI runs: the compiled entry, or the sources through tsx', () => {
    expect(cliEntry('file:///app/dist/cluster/cli-entry.js')).toEqual({
      execArgv: [],
      script: '/app/dist/cli/main.js',
    });
    const fromSources = cliEntry();
    expect(fromSources.script).toMatch(/src\/cli\/main\.ts$/);
    expect(fromSources.execArgv[0]).toBe('--import');
    expect(fromSources.execArgv[1]).toMatch(/^file:\/\/.*tsx/);
  });
});
