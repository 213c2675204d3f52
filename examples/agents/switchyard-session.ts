/**
 * The Switchyard conventions an agent follows, whatever its framework:
 *
 * - one session id per conversation, sent as `x-session-id` on every request, so every turn of
 *   the conversation is answered by the same model version;
 * - the task id (`x-switchyard-task`) stays the same when the task is restarted, so feedback
 *   about the task can be matched with its sessions;
 * - `x-switchyard-session-reset: true` on an answer means the session's version was rolled back
 *   (a hard cut): the answer came from another version than the rest of the transcript. Do not
 *   continue that transcript: drop it and restart the task on a fresh session id;
 * - a 422 whose body has `switchyard` is the gateway's self-correction error (the model's tool
 *   call broke the tool's contract, under the tenant's failure policy `error`): nothing reached
 *   your tools; tell the model what was wrong and ask again (a bounded number of times).
 *
 * Copy this file next to your agent; it has no dependencies.
 */
import { randomUUID } from 'node:crypto';

/** What one answer's headers said. */
export interface Turn {
  status: number;
  requestId: string | null;
  /** The session the gateway used (your `x-session-id`). */
  session: string | null;
  /** The model version that answered. */
  version: string | null;
  /** `canary` when the upgrade's candidate answered, else `stable`. */
  cohort: string | null;
  /** The session was moved off its version (a hard cut): restart the task on a fresh session. */
  reset: boolean;
}

/** Thrown (or returned) when an answer carried `x-switchyard-session-reset: true`. */
export class SessionResetError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} was reset by Switchyard (its model version was rolled back)`);
    this.name = 'SessionResetError';
  }
}

/** One conversation with the gateway: its id, and the headers of every answer it got. */
export class SwitchyardSession {
  readonly turns: Turn[] = [];

  constructor(
    readonly taskId: string = randomUUID(),
    readonly id: string = `${taskId}.${randomUUID().slice(0, 8)}`,
  ) {}

  /** The headers to send with every request of this session. */
  get headers(): Record<string, string> {
    return { 'x-session-id': this.id, 'x-switchyard-task': this.taskId };
  }

  /** A new session for the same task: what to continue on after a reset. */
  next(): SwitchyardSession {
    return new SwitchyardSession(this.taskId);
  }

  /** Records what an answer's headers say (call it for errors too); returns the turn. */
  observe(status: number, headers: Headers | undefined): Turn {
    const get = (name: string) => headers?.get(name) ?? null;
    const turn: Turn = {
      status,
      requestId: get('x-request-id'),
      session: get('x-switchyard-session'),
      version: get('x-switchyard-version'),
      cohort: get('x-switchyard-cohort'),
      reset: get('x-switchyard-session-reset') === 'true',
    };
    this.turns.push(turn);
    return turn;
  }

  get lastTurn(): Turn | undefined {
    return this.turns.at(-1);
  }

  /** Throws SessionResetError when the last answer carried the reset signal. */
  throwIfReset(): void {
    if (this.lastTurn?.reset) throw new SessionResetError(this.id);
  }

  /**
   * A `fetch` that sends this session's headers and records every answer's headers. For clients
   * that do not hand out response headers (LangChain's ChatOpenAI: `configuration: { fetch }`).
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v);
    const response = await fetch(input, { ...init, headers });
    this.observe(response.status, response.headers);
    return response;
  };
}

/** One invalid tool call, as the gateway describes it (`error.switchyard.errors[]`). */
export interface ToolCallError {
  kind: 'schema_violation' | 'unknown_tool' | 'unparsable_arguments';
  tool: string;
  toolCallId: string | null;
  message: string;
  errors: { path: string; keyword: string; expected: string; got: string }[];
  suggestions: { action: string; from: string; to: string }[];
}

export interface SelfCorrectionReport {
  type: 'switchyard.tool_call_errors';
  errors: ToolCallError[];
}

/**
 * The gateway's self-correction report when `err` is its 422, or its error event in a stream that
 * had already sent text (the SDKs raise it with no status). OpenAI SDK: `err.error.switchyard`;
 * Anthropic SDK: `err.error.error.switchyard`. Undefined for any other error.
 */
export function selfCorrectionOf(err: unknown): SelfCorrectionReport | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; error?: { switchyard?: unknown; error?: { switchyard?: unknown } } };
  if (e.status !== 422 && e.status !== undefined) return undefined;
  const report = (e.error?.switchyard ?? e.error?.error?.switchyard) as SelfCorrectionReport | undefined;
  return report?.type === 'switchyard.tool_call_errors' ? report : undefined;
}

/** One line per rejected call, for logs and task results. */
export function summaryOf(report: SelfCorrectionReport): string {
  return report.errors.map((e) => e.message).join('; ');
}

/** The message that tells the model what was wrong with its tool call, for its next attempt. */
export function correctionNote(report: SelfCorrectionReport): string {
  const lines = report.errors.map((e) => {
    const hints = e.suggestions.map((s) => ` (${s.action}: ${s.from} -> ${s.to})`).join('');
    return `- ${e.message}${hints}`;
  });
  return [
    'Your last tool call was rejected because its arguments do not match the tool schema:',
    ...lines,
    'Call the tool again with arguments that match its schema exactly.',
  ].join('\n');
}

/** True for an error the client must not retry as it is (`x-should-retry: false`, e.g. the 422). */
export function mustNotRetry(err: unknown): boolean {
  const headers = (err as { headers?: unknown } | null)?.headers;
  return headers instanceof Headers && headers.get('x-should-retry') === 'false';
}

/**
 * Reports how a task went (`POST /v1/feedback`): the gateway attributes it to the session's
 * version and cohort, and the rollout controller compares task success between the cohorts.
 * Never fails the caller.
 */
export async function reportOutcome(
  gatewayUrl: string,
  apiKey: string,
  model: string,
  session: SwitchyardSession,
  outcome: 'success' | 'failure',
  detail?: string,
): Promise<void> {
  try {
    const res = await fetch(`${gatewayUrl}/v1/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...session.headers },
      body: JSON.stringify({
        model,
        task_id: session.taskId,
        outcome,
        ...(detail ? { detail: detail.slice(0, 2000) } : {}),
      }),
    });
    await res.arrayBuffer();
  } catch {
    // Feedback is best effort.
  }
}
