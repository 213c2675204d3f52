import { describe, expect, it } from 'vitest';
import { checkCases } from '../case-check.js';
import { BFCL_DIR, bfclSlice } from '../test-support/bets-fixtures.js';
import { casesFromBfcl } from './bfcl-suite-import.js';

describe('BFCL import', () => {
  // Two live_simple answers leave required arguments without any accepted value (see
  // KNOWN_INVALID_ANSWERS in contracts/bfcl-import.test.ts): those are refused, with the reason.
  it.each([
    ['BFCL_v4_simple_python', []],
    ['BFCL_v4_multiple', []],
    ['BFCL_v4_live_simple', ['live_simple_106-63-0', 'live_simple_112-68-0']],
  ])('converts every case of %s into a valid case', (file, broken) => {
    const { cases, answers } = bfclSlice(`${BFCL_DIR}/${file}`, 10_000);
    const out = casesFromBfcl(cases, answers);
    expect(out.rejected.map((r) => r.caseId)).toEqual(broken);
    for (const r of out.rejected) expect(r.message).toMatch(/accepts no value for/);
    expect(out.cases.length).toBeGreaterThan(100);
    expect(checkCases(out.cases).rejected).toEqual([]);
  });

  it('maps a case: functions as tools (provider-safe names), the expected call as accepted values', () => {
    const { cases, answers } = bfclSlice(`${BFCL_DIR}/BFCL_v4_live_simple`, 3, 2);
    const c = casesFromBfcl(cases, answers).cases[0];
    expect(c?.id).toBe('live_simple_2-2-0');
    expect(c?.input.tools.map((t) => t.name)).toEqual(['uber_ride']);
    expect(c?.assertions).toEqual([
      {
        kind: 'tool_call',
        tool: 'uber_ride',
        acceptedValues: { loc: ['2020 Addison Street, Berkeley, CA, USA'], type: ['comfort'], time: [600] },
      },
    ]);
    expect(c?.golden?.toolCall).toEqual({
      name: 'uber_ride',
      arguments: { loc: '2020 Addison Street, Berkeley, CA, USA', type: 'comfort', time: 600 },
    });
  });

  it('lists cases it cannot convert, and refuses a file that is not BFCL', () => {
    const { cases } = bfclSlice(`${BFCL_DIR}/BFCL_v4_simple_python`, 2);
    const out = casesFromBfcl(cases, '{"id":"simple_python_0","ground_truth":[{"a":{}},{"b":{}}]}');
    expect(out.rejected.map((r) => r.message)).toEqual([
      expect.stringMatching(/2 parallel calls/),
      'no answer in the answers file',
    ]);
    expect(() => casesFromBfcl('not json', '')).toThrow(/not a BFCL file/);
  });
});
