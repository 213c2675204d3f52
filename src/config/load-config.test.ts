import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from './config-schema.js';
import { ConfigError, loadConfig, validateConfig } from './load-config.js';

const problemsOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('configuration', () => {
  it('means the embedded default when empty', () => {
    const c = validateConfig({});
    expect(c.storage.driver).toBe('sqlite');
    expect(c.cache.driver).toBe('memory');
    expect(c.server.port).toBe(8080);
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('names the key, the value and what is allowed', () => {
    expect(problemsOf(() => validateConfig({ server: { port: 70000 } }))).toEqual([
      'server.port = 70000: must be <= 65535',
    ]);
    expect(problemsOf(() => validateConfig({ storage: { driver: 'mysql' } }))).toEqual([
      'storage.driver = "mysql": must be one of "sqlite", "postgres"',
    ]);
    expect(problemsOf(() => validateConfig({ server: { prot: 1 } }))).toEqual([
      'server.prot: unknown key (allowed here: host, port, bodyLimitBytes)',
    ]);
    expect(problemsOf(() => validateConfig({ log: { level: 'loud' } }))[0]).toMatch(
      /^log.level = "loud": must be one of "fatal", "error"/,
    );
  });

  it('requires connection URLs for the scaled backends and takes them from the environment', () => {
    expect(problemsOf(() => validateConfig({ storage: { driver: 'postgres' } }))[0]).toMatch(
      /SWITCHYARD_DATABASE_URL/,
    );
    const c = validateConfig(
      { storage: { driver: 'postgres' }, cache: { driver: 'redis' } },
      {
        SWITCHYARD_DATABASE_URL: 'postgres://u:p@db/x',
        SWITCHYARD_REDIS_URL: 'redis://r:6379',
        SWITCHYARD_PORT: '9090',
      },
    );
    expect([c.storage.postgresUrl, c.cache.redisUrl, c.server.port]).toEqual([
      'postgres://u:p@db/x',
      'redis://r:6379',
      9090,
    ]);
    expect(problemsOf(() => validateConfig({}, { SWITCHYARD_PORT: 'eighty' }))).toEqual([
      'server.port = "eighty": must be integer',
    ]);
  });

  it('reports unreadable files and YAML errors with the file name and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  port: [1,\n');
    expect(problemsOf(() => loadConfig(file, {}))[0]).toMatch(/bad.yaml: not valid YAML at line \d+/);
    expect(problemsOf(() => loadConfig(join(dir, 'missing.yaml'), {}))[0]).toMatch(
      /missing.yaml: cannot be read \(ENOENT\)/,
    );
    writeFileSync(file, 'server:\n  port: 9000\ncache:\n  prefix: team-a\n');
    expect(loadConfig(file, {}).cache.prefix).toBe('team-a');
  });

  it('publishes the schema it validates with (docs/config.schema.json is current)', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../docs/config.schema.json', import.meta.url), 'utf8'),
    );
    expect(published).toEqual(JSON.parse(JSON.stringify(ConfigSchema)));
  });
});
