import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseInteger, parseNumber } from './command-kit.js';
import { definitionFromOptions, toolFromFile } from './commands/contracts.js';
import { stagesText } from './commands/groups.js';
import { parseContact } from './commands/tenants.js';
import { EXIT } from './exit-codes.js';
import { readObject } from './input-files.js';
import { diffRecords, flatten, formatChanges } from './output.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-cli-parse-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('option parsers', () => {
  it('refuses numbers that are not numbers (usage error), and accepts the rest', () => {
    expect(parseInteger('a count')('12')).toBe(12);
    expect(parseNumber('a percentage')('2.5')).toBe(2.5);
    for (const bad of ['abc', '', '1.5', '-1'])
      expect(() => parseInteger('a count')(bad)).toThrow(InvalidArgumentError);
    expect(() => parseNumber('a percentage')('NaN')).toThrow(InvalidArgumentError);
  });

  it('parses repeated --contact "Name <email>" into a list', () => {
    const one = parseContact('Ann Lee <ann@acme.test>', undefined);
    expect(parseContact(' Bob <bob@acme.test> ', one)).toEqual([
      { name: 'Ann Lee', email: 'ann@acme.test' },
      { name: 'Bob', email: 'bob@acme.test' },
    ]);
    expect(() => parseContact('ann@acme.test', undefined)).toThrow(InvalidArgumentError);
  });
});

describe('contract definitions from the command line', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } } };

  it('takes a bare schema, an OpenAI tool or an Anthropic tool', () => {
    expect(toolFromFile(schema)).toEqual({ parameters: schema });
    expect(
      toolFromFile({
        type: 'function',
        function: { name: 'get_weather', description: 'd', parameters: schema },
      }),
    ).toEqual({ parameters: schema, description: 'd', name: 'get_weather' });
    expect(toolFromFile({ name: 'get_weather', input_schema: schema })).toEqual({
      parameters: schema,
      name: 'get_weather',
    });
  });

  it('builds each kind, and wants exactly one of them', () => {
    const f = file('tool.json', JSON.stringify(schema));
    expect(definitionFromOptions({ toolSchema: f, description: 'x' })).toEqual({
      kind: 'tool',
      parameters: schema,
      description: 'x',
    });
    expect(definitionFromOptions({ regex: '^a$', flags: 'i' })).toEqual({
      kind: 'format_regex',
      pattern: '^a$',
      flags: 'i',
    });
    expect(definitionFromOptions({ jsonSchema: f })).toEqual({ kind: 'format_json_schema', schema });
    expect(() => definitionFromOptions({})).toThrow(/exactly one/);
    expect(() => definitionFromOptions({ regex: 'a', jsonSchema: f })).toThrow(/exactly one/);
    expect(() => definitionFromOptions({ jsonSchema: f, flags: 'i' })).toThrow(/--flags/);
  });

  it('names the file when it is missing or not JSON (invalid exit)', () => {
    const missing = join(dir, 'missing.json');
    expect(() => definitionFromOptions({ toolSchema: missing })).toThrow(missing);
    const broken = file('broken.json', '{ nope');
    try {
      readObject(broken);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain(broken);
      expect((e as { exitCode: number }).exitCode).toBe(EXIT.invalid);
    }
    expect(() => readObject(file('list.json', '[1]'))).toThrow(/object/);
  });

  it('reads a plan from YAML', () => {
    const plan = readObject(
      file('plan.yaml', 'stages:\n  - { percent: 10, soakHours: 2, approvals: [platform] }\n'),
      {
        yaml: true,
      },
    );
    expect(plan).toEqual({ stages: [{ percent: 10, soakHours: 2, approvals: ['platform'] }] });
    expect(stagesText(plan.stages as never)).toBe('10%/2h+platform');
  });
});

describe('record output', () => {
  it('flattens nested objects to dotted keys, keeping arrays whole', () => {
    expect(flatten({ a: 1, r: { c: 'high' }, l: [1], e: {} })).toEqual([
      ['a', 1],
      ['r.c', 'high'],
      ['l', [1]],
      ['e', {}],
    ]);
  });

  it('diffs changed fields compactly', () => {
    const before = { id: 't', frozen: false, risk: { c: 'low' }, gone: 1 };
    const after = { id: 't', frozen: true, risk: { c: 'high' }, added: null };
    expect(formatChanges(diffRecords(before, after)).split('\n')).toEqual([
      '~ frozen: false -> true',
      '~ risk.c: low -> high',
      '- gone: 1',
      '+ added: null',
    ]);
    expect(diffRecords(null, { id: 't' })).toEqual([{ path: 'id', before: undefined, after: 't' }]);
    expect(formatChanges([])).toBe('(no field changed)');
  });
});
