import { describe, expect, it } from 'vitest';
import { checkCases } from '../case-check.js';
import { casesFromPromptfoo } from './promptfoo-import.js';

const YAML = `
- description: Refund policy answer
  vars:
    system: You are a support agent.
    question: "Can I return shoes after {{days}} days?"
    days: 40
  assert:
    - type: icontains
      value: refund
    - type: not-contains
      value: "As an AI"
    - type: llm-rubric
      value: Explains the 30-day limit politely
      threshold: 0.7
    - type: similar
      value: Returns are accepted within 30 days.
      weight: 2
- vars:
    prompt: Give the order as JSON
  assert:
    - type: is-json
      value: { type: object, required: [id] }
    - type: contains-json
    - type: regex
      value: '"id"'
    - type: starts-with
      value: "{"
- vars:
    messages:
      - { role: system, content: Use tools. }
      - { role: user, content: Weather in Paris? }
    tools:
      - type: function
        function: { name: get_weather, parameters: { type: object, properties: { city: { type: string } } } }
  assert:
    - type: is-valid-openai-tools-call
- vars: { a: one, b: two }
  assert: [{ type: equals, value: x }]
- vars: { prompt: hi }
  assert:
    - type: javascript
      value: output.length > 3
- vars: { prompt: hi }
  assert: [{ type: not-is-json }]
`;

describe('promptfoo import', () => {
  it('maps the assertion types that mean something here, with vars rendered', () => {
    const out = casesFromPromptfoo(YAML);
    expect(out.cases.map((c) => c.id)).toEqual(['refund-policy-answer', 'pf-2', 'pf-3']);
    const [refund, json, tools] = out.cases;
    expect(refund?.input).toEqual({
      system: 'You are a support agent.',
      messages: [{ role: 'user', content: 'Can I return shoes after {{days}} days?' }],
      tools: [],
    });
    expect(refund?.assertions).toEqual([
      { kind: 'format', check: 'contains', value: 'refund', ignoreCase: true },
      { kind: 'format', check: 'contains', value: 'As an AI', negate: true },
      { kind: 'semantic', rubric: 'Explains the 30-day limit politely', passScore: 0.7 },
      { kind: 'semantic', golden: 'Returns are accepted within 30 days.', passScore: 0.75 },
    ]);
    expect(refund?.golden).toEqual({ text: 'Returns are accepted within 30 days.' });
    expect(json?.assertions).toEqual([
      { kind: 'format', check: 'json', extract: 'whole', schema: { type: 'object', required: ['id'] } },
      { kind: 'format', check: 'json', extract: 'anywhere' },
      { kind: 'format', check: 'regex', pattern: '"id"' },
      { kind: 'format', check: 'regex', pattern: '^\\s*\\{' },
    ]);
    expect(tools?.input.system).toBe('Use tools.');
    expect(tools?.input.tools[0]?.name).toBe('get_weather');
    expect(tools?.assertions).toEqual([{ kind: 'tool_call' }]);
    expect(out.warnings).toEqual([
      expect.stringMatching(/refund-policy-answer.*weight and metric are ignored/),
    ]);
    expect(checkCases(out.cases).rejected).toEqual([]);
  });

  it('refuses, per case, what has no meaning here and inputs it cannot place', () => {
    const out = casesFromPromptfoo(YAML);
    expect(out.rejected.map((r) => [r.index, r.message])).toEqual([
      [3, expect.stringMatching(/cannot tell which var is the user's message \(vars: a, b\)/)],
      [4, expect.stringMatching(/assert type 'javascript' has no meaning .*supported: equals, contains/)],
      [5, expect.stringMatching(/'not-is-json' is not supported/)],
    ]);
  });

  it('uses a prompt template when given, and refuses a file that is not a test list', () => {
    const out = casesFromPromptfoo(
      [{ vars: { city: 'Oslo' }, assert: [{ type: 'contains', value: 'Oslo' }] }],
      { promptTemplate: 'Weather in {{ city }}?' },
    );
    expect(out.cases[0]?.input.messages).toEqual([{ role: 'user', content: 'Weather in Oslo?' }]);
    expect(() => casesFromPromptfoo('just: text')).toThrow(/list of tests/);
  });
});
