/**
 * JSON wrapped in a markdown code fence ("```json\n{...}\n```"): what chat-tuned model versions
 * do to tool arguments and structured outputs. It is its own failure kind everywhere because it
 * is the most common format drift, it breaks every strict `JSON.parse` downstream, and it says
 * "the model is fine, only the wrapping moved" — a different story from garbage arguments.
 */

export interface FencedJson {
  /** The parsed JSON inside the first fence that holds valid JSON. */
  value: unknown;
  /** The fence's info string (`json`, `JSON`, or empty). */
  language: string;
  /** True when the fence is the whole text; false when prose surrounds it. */
  wholeText: boolean;
}

// A fence opens with ``` (optionally an info string on the same line) and closes with ```.
const FENCE = /```([^\n`]*)\n?([\s\S]*?)```/g;
const INFO_STRING = /^[A-Za-z0-9_+.-]*$/;

/**
 * Whether the text opens with a code fence. JSON never starts with a backtick, so a caller can
 * skip the JSON.parse that would throw (a thrown SyntaxError costs microseconds: it builds a
 * message and a stack trace) and go straight to findFencedJson.
 */
export function opensWithFence(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    return c === 96;
  }
  return false;
}

/** Usually called after a strict JSON.parse failed, so the regex never runs on the hot path. */
export function findFencedJson(text: string): FencedJson | undefined {
  if (!text.includes('```')) return undefined;
  for (const match of text.matchAll(FENCE)) {
    const info = (match[1] ?? '').trim();
    let body = match[2] ?? '';
    let language = info;
    if (!INFO_STRING.test(info)) {
      // "```{"a":1}```": no info string, the JSON starts on the fence line.
      body = `${match[1] ?? ''}\n${body}`;
      language = '';
    }
    const inner = body.trim();
    if (inner === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(inner);
    } catch {
      continue;
    }
    const wholeText = text.trim() === match[0];
    return { value, language, wholeText };
  }
  return undefined;
}

/** The same JSON text inside a fence, as a chat-tuned model would write it. */
export function wrapInFence(json: string, language = 'json'): string {
  return `\`\`\`${language}\n${json}\n\`\`\``;
}
