import type { CaseSpec } from '../bets/bets-types.js';

/** What one simulated agent session did. */
export interface SessionOutcome {
  requests: number;
  /** The gateway answered with an error (any 4xx/5xx, including a self-correction 422). */
  errors: number;
  toolCalls: number;
  /** The gateway told the session it was moved to another version (hard cut). */
  reset: boolean;
  cohort: string | null;
  success: boolean;
}

interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

interface ChatResponse {
  choices?: { message?: { content?: string | null; tool_calls?: ChatMessage['tool_calls'] } }[];
}

export interface AgentOptions {
  gatewayUrl: string;
  apiKey: string;
  channel: string;
  /** Most tool round trips before the agent gives up on the task. */
  maxSteps?: number;
  signal?: AbortSignal;
}

/**
 * A minimal tool-using agent over the OpenAI wire format, as a tenant's agent would run: it sends
 * the task, executes every tool call it gets with a canned result, sends the results back, and
 * stops at a text answer. It keeps one session id for the whole task (so the gateway keeps it on
 * one version), honours `x-switchyard-session-reset` by starting the task again on a new session,
 * and reports the task's outcome on `/v1/feedback`.
 */
export async function runAgentSession(
  task: CaseSpec,
  sessionId: string,
  o: AgentOptions,
): Promise<SessionOutcome> {
  const out: SessionOutcome = {
    requests: 0,
    errors: 0,
    toolCalls: 0,
    reset: false,
    cohort: null,
    success: false,
  };
  const messages: ChatMessage[] = [];
  if (task.input.system) messages.push({ role: 'system', content: task.input.system });
  for (const m of task.input.messages) {
    if (m.role === 'user' || m.role === 'assistant')
      messages.push({ role: m.role, content: m.content as string });
  }
  const tools = task.input.tools.map((t) => ({
    type: 'function' as const,
    function: {
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      parameters: t.parameters,
    },
  }));
  const headers = {
    authorization: `Bearer ${o.apiKey}`,
    'content-type': 'application/json',
    'x-session-id': sessionId,
    'x-switchyard-task': sessionId,
  };
  for (let step = 0; step < (o.maxSteps ?? 3); step++) {
    const res = await fetch(`${o.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: o.channel,
        messages,
        ...(tools.length > 0 ? { tools } : {}),
        max_tokens: 256,
      }),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    out.requests++;
    out.cohort = res.headers.get('x-switchyard-cohort') ?? out.cohort;
    if (res.headers.get('x-switchyard-session-reset') === 'true') out.reset = true;
    const body = (await res.json()) as ChatResponse;
    if (!res.ok) {
      out.errors++;
      break;
    }
    const msg = body.choices?.[0]?.message;
    const calls = msg?.tool_calls ?? [];
    if (calls.length === 0) {
      out.success = true;
      break;
    }
    out.toolCalls += calls.length;
    messages.push({ role: 'assistant', content: msg?.content ?? null, tool_calls: calls });
    for (const c of calls) {
      messages.push({
        role: 'tool',
        tool_call_id: c.id,
        content: JSON.stringify({ ok: true, result: `done: ${c.function.name}` }),
      });
    }
  }
  await fetch(`${o.gatewayUrl}/v1/feedback`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      model: o.channel,
      task_id: sessionId,
      outcome: out.success ? 'success' : 'failure',
      downstream_errors: out.errors,
    }),
    ...(o.signal ? { signal: o.signal } : {}),
  }).then((r) => r.arrayBuffer());
  return out;
}
