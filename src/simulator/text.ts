/**
 * Text a simulated model writes when it does not call a tool: a short, sensible answer derived
 * from the user's message, a summary of tool results (so agent loops end), and an alternative
 * wording of each for the `changed_wording` drift. Templates are picked by the request's PRNG, so
 * the same request always reads the same, and the reworded form always differs from the usual.
 */
import { contentWords } from './hints.js';
import type { Rng } from './prng.js';
import type { ToolResult } from './sim-request.js';

const LEAD_INS = [
  /^(hi|hello|hey)\b[,!.]?\s*/i,
  /^(please|kindly)\s+/i,
  /^(can|could|would|will)\s+you\s+(please\s+)?/i,
  /^(i\s+(want|need|would like)\s+(you\s+)?to\s+)/i,
  /^(tell\s+me(\s+about)?|explain|describe|give\s+me|show\s+me|help\s+me(\s+with)?)\s+/i,
  /^(what|who|where|when|why|how)\s+(is|are|was|were|do|does|did|can|should)\s+/i,
];

/** The subject of a message: its first question or sentence, without politeness, <= 12 words. */
export function topicOf(userText: string): string {
  const flat = userText.replace(/\s+/g, ' ').trim();
  if (!flat) return 'your request';
  const sentences = flat.match(/[^.?!]+[.?!]?/g) ?? [flat];
  let topic = (sentences.find((s) => s.includes('?')) ?? sentences[0] ?? flat).trim();
  for (let changed = true; changed; ) {
    changed = false;
    for (const re of LEAD_INS) {
      const next = topic.replace(re, '');
      if (next !== topic) {
        topic = next;
        changed = true;
      }
    }
  }
  topic = topic.replace(/[.?!,;:\s]+$/, '');
  const words = topic.split(' ');
  if (words.length > 12) topic = `${words.slice(0, 12).join(' ')}...`;
  return topic || 'your request';
}

/** Up to three distinct content words of the message, in order of first use. */
function keyPoints(userText: string): string[] {
  return [...new Set(contentWords(userText).filter((w) => w.length > 2 && !/^\d+$/.test(w)))].slice(0, 3);
}

function listing(words: string[], finalComma: boolean): string {
  if (words.length <= 1) return words[0] ?? '';
  const head = words.slice(0, -1).join(', ');
  return `${head}${finalComma && words.length > 2 ? ',' : ''} and ${words[words.length - 1]}`;
}

const USUAL = [
  (t: string, d: string) => `Here is a short answer on ${t}: ${d}`,
  (t: string, d: string) => `You asked about ${t}. ${d}`,
  (t: string, d: string) => `On ${t}: ${d}`,
];
const REWORDED = [
  (t: string, d: string) => `In brief, regarding ${t}: ${d}`,
  (t: string, d: string) => `Regarding ${t}, this is what matters. ${d}`,
  (t: string, d: string) => `To answer your question about ${t}: ${d}`,
];

/** The answer to a message without tools. `reworded` gives the `changed_wording` variant. */
export function answerText(userText: string, rng: Rng, reworded: boolean): string {
  const pick = rng.int(0, USUAL.length - 1);
  const topic = topicOf(userText);
  const points = keyPoints(userText);
  let detail: string;
  if (points.length === 0) {
    detail = reworded ? 'There is little more to add.' : 'I do not have more detail than that.';
  } else if (reworded) {
    detail = `Key factors include ${listing(points, true)}.`;
  } else {
    detail = `The main ${points.length > 1 ? 'points to consider are' : 'point to consider is'} ${listing(points, false)}.`;
  }
  const template = (reworded ? REWORDED : USUAL)[pick] ?? USUAL[0];
  return template ? template(topic, detail) : detail;
}

function snippet(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat || '(empty result)';
}

/** The text answer after tool results: it uses them and ends the agent's loop. */
export function summariseToolResults(results: readonly ToolResult[], reworded: boolean): string {
  if (results.length === 0) return reworded ? 'The tool finished.' : 'The tool call completed.';
  const parts = results.map((r) => {
    const name = r.name ?? 'the tool';
    return reworded
      ? `according to ${name}, the outcome is ${snippet(r.content)}`
      : `${name} returned ${snippet(r.content)}`;
  });
  return reworded
    ? `To sum up: ${parts.join('; ')}.`
    : `Based on the results, here is the answer: ${parts.join('; ')}.`;
}

/** Text cut to a token budget (4 characters a token), as a provider stops at max_tokens. */
export function truncateToTokens(
  text: string,
  maxTokens: number | undefined,
): { text: string; truncated: boolean } {
  if (maxTokens === undefined || text.length <= maxTokens * 4) return { text, truncated: false };
  return { text: text.slice(0, Math.max(1, maxTokens * 4)), truncated: true };
}
