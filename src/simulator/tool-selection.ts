/**
 * Which offered tool a simulated model calls when no known case says: the one whose name and
 * description share the most words with the user's message (name words count double), the
 * first offered on a tie. Deterministic, so the same request picks the same tool.
 */
import { contentWords, nameWords } from './hints.js';
import type { ToolSpec } from './sim-request.js';

interface ToolWords {
  name: Set<string>;
  description: Set<string>;
}

// Tool definitions repeat on every request of an agent; tokenise each once. Bounded because tool
// definitions come from clients.
const cache = new Map<string, ToolWords>();
const CACHE_LIMIT = 5000;

function stem(word: string): string {
  return word.length > 5 ? word.slice(0, word.length - 2) : word;
}

function toolWords(tool: ToolSpec): ToolWords {
  const key = `${tool.name}\u0000${tool.description}`;
  let words = cache.get(key);
  if (!words) {
    words = {
      name: new Set(
        nameWords(tool.name)
          .filter((w) => w.length > 1)
          .map(stem),
      ),
      description: new Set(contentWords(tool.description).map(stem)),
    };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, words);
  }
  return words;
}

export function scoreTool(tool: ToolSpec, userWords: ReadonlySet<string>): number {
  const words = toolWords(tool);
  let score = 0;
  for (const w of userWords) {
    if (words.name.has(w)) score += 2;
    if (words.description.has(w)) score += 1;
  }
  return score;
}

/** The index of the best-matching tool for the message (0 when nothing matches). */
export function chooseTool(tools: readonly ToolSpec[], userText: string): number {
  const userWords = new Set(contentWords(userText).map(stem));
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i];
    if (!tool) continue;
    const score = scoreTool(tool, userWords);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}
