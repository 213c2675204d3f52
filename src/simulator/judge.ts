/**
 * The simulated judge model (the pinned judge of BETS suites).
 *
 * Protocol, for any model whose profile has `judge`:
 * - the system prompt starts with `SWITCHYARD-JUDGE` (anything may follow it);
 * - the last user message is JSON `{"rubric": string?, "golden": any, "candidate": any}`, alone
 *   or inside other text (the outermost `{...}` is read);
 * - the reply is the JSON text `{"score": <0..1, two decimals>, "reason": string}`.
 * The score is the token-overlap F1 between golden and candidate (lower-cased words; non-string
 * values compared as key-sorted JSON), 1 for equal values; with probability `noiseRate` it is
 * moved by up to `noiseAmplitude` either way, to play an imperfect judge.
 */
import { tokenize } from './hints.js';
import type { Rng } from './prng.js';
import { stableStringify } from './sim-request.js';

export const JUDGE_MARKER = 'SWITCHYARD-JUDGE';

export interface JudgeInput {
  rubric?: string;
  golden: unknown;
  candidate: unknown;
}

export interface JudgeVerdict {
  score: number;
  reason: string;
}

export function isJudgeRequest(system: string): boolean {
  return system.trimStart().startsWith(JUDGE_MARKER);
}

/** The messages a client sends to ask the judge: for BETS, and to document the protocol. */
export function buildJudgeMessages(input: JudgeInput): { system: string; user: string } {
  return {
    system: `${JUDGE_MARKER}\nCompare the candidate answer with the golden answer using the rubric. Reply only with JSON {"score": number between 0 and 1, "reason": string}.`,
    user: JSON.stringify({ rubric: input.rubric ?? '', golden: input.golden, candidate: input.candidate }),
  };
}

export function parseJudgeInput(text: string): JudgeInput | undefined {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    if (typeof value !== 'object' || value === null || !('golden' in value) || !('candidate' in value)) {
      return undefined;
    }
    const v = value as Record<string, unknown>;
    return {
      golden: v.golden,
      candidate: v.candidate,
      ...(typeof v.rubric === 'string' ? { rubric: v.rubric } : {}),
    };
  } catch {
    return undefined;
  }
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : stableStringify(value);
}

/** Token-overlap F1 over word multisets: 1 for the same words, 0 for none shared. */
export function overlap(
  golden: string,
  candidate: string,
): { f1: number; precision: number; recall: number } {
  const g = tokenize(golden);
  const c = tokenize(candidate);
  if (g.length === 0 && c.length === 0) return { f1: 1, precision: 1, recall: 1 };
  if (g.length === 0 || c.length === 0) return { f1: 0, precision: 0, recall: 0 };
  const counts = new Map<string, number>();
  for (const w of g) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of c) {
    const n = counts.get(w) ?? 0;
    if (n > 0) {
      common++;
      counts.set(w, n - 1);
    }
  }
  const precision = common / c.length;
  const recall = common / g.length;
  const f1 = common === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { f1, precision, recall };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function judgeVerdict(
  input: JudgeInput | undefined,
  judge: { noiseRate: number; noiseAmplitude: number },
  rng: Rng,
): JudgeVerdict {
  if (!input) {
    return {
      score: 0,
      reason: 'Could not read the judge input: expected JSON {"rubric", "golden", "candidate"}.',
    };
  }
  const golden = asText(input.golden);
  const candidate = asText(input.candidate);
  const same = golden === candidate;
  const { f1, precision, recall } = same ? { f1: 1, precision: 1, recall: 1 } : overlap(golden, candidate);
  let score = round2(f1);
  let reason = same
    ? 'The candidate matches the golden answer exactly.'
    : `Token overlap F1 ${score.toFixed(2)} (precision ${precision.toFixed(2)}, recall ${recall.toFixed(2)}) between candidate and golden answer.`;
  if (rng.chance(judge.noiseRate)) {
    score = round2(Math.min(1, Math.max(0, score + (rng.next() * 2 - 1) * judge.noiseAmplitude)));
    reason += ' Judged with some hesitation.';
  }
  if (input.rubric) reason += ` Rubric: ${input.rubric.slice(0, 120)}`;
  return { score, reason };
}
