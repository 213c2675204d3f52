import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractHints } from './hints.js';
import { Rng } from './prng.js';
import { answerText, summariseToolResults, topicOf, truncateToTokens } from './text.js';
import { chooseTool } from './tool-selection.js';

describe('text answers', () => {
  it('take the topic from the question, without politeness', () => {
    expect(topicOf('Hi! Can you please tell me about the Eiffel Tower?')).toBe('the Eiffel Tower');
    expect(topicOf('What is the boiling point of water at altitude? Thanks.')).toBe(
      'the boiling point of water at altitude',
    );
    expect(topicOf('')).toBe('your request');
  });

  it('are short sentences about the message, the same for the same seed', () => {
    const text = answerText('How do vaccines train the immune system?', new Rng('a'), false);
    expect(text).toMatch(/vaccines train the immune system/);
    expect(text.length).toBeLessThan(200);
    expect(answerText('How do vaccines train the immune system?', new Rng('a'), false)).toBe(text);
  });

  it('always read differently when reworded', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 8 }), (message, seed) => {
        return answerText(message, new Rng(seed), false) !== answerText(message, new Rng(seed), true);
      }),
    );
    const results = [{ name: 'lookup', content: 'ok' }];
    expect(summariseToolResults(results, true)).not.toBe(summariseToolResults(results, false));
  });

  it('are cut at the token budget', () => {
    expect(truncateToTokens('abcdefghij', 2)).toEqual({ text: 'abcdefgh', truncated: true });
    expect(truncateToTokens('abc', 2)).toEqual({ text: 'abc', truncated: false });
  });
});

describe('hints and tool choice', () => {
  it('extracts numbers, quoted strings, places and dates', () => {
    const hints = extractHints(
      'Book "Hotel Rex" in New York for 3 nights from 2026-05-02, budget 1,200.50 USD, room v2',
    );
    expect(hints.numbers.map((n) => n.value)).toEqual([3, 2026, 5, 2, 1200.5]);
    expect(hints.quoted).toEqual(['Hotel Rex']);
    expect(hints.capitalised).toContain('New York');
    expect(hints.dates).toEqual(['2026-05-02']);
  });

  it('chooses the tool sharing most words with the message, else the first', () => {
    const tools = [
      { name: 'send_email', description: 'Send an email', parameters: {} },
      { name: 'get_weather_forecast', description: 'Weather forecast for a city', parameters: {} },
    ];
    expect(chooseTool(tools, 'What is the weather forecast in Oslo?')).toBe(1);
    expect(chooseTool(tools, 'Please email Bob')).toBe(0);
    expect(chooseTool(tools, 'Nothing related')).toBe(0);
  });
});
