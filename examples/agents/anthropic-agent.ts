/**
 * A tool-using agent on the official `@anthropic-ai/sdk`, through Switchyard: the Messages API
 * loop (tool_use blocks in, tool_result blocks back) with the session id on every request, the
 * response headers read with `.withResponse()`, a restart on the reset signal and
 * self-correction on the gateway's 422.
 *
 *   SWITCHYARD_URL=http://127.0.0.1:8080 SWITCHYARD_KEY=sy-... SWITCHYARD_MODEL=claude-next \
 *     npx tsx examples/agents/anthropic-agent.ts "Plan a weekend in Lisbon ..."
 */
import { pathToFileURL } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { type AgentOptions, runWithRestarts, type TaskResult, toolsOf } from './run-task.js';
import { correctionNote, SessionResetError, selfCorrectionOf, summaryOf } from './switchyard-session.js';
import { jsonSchemaOf, runToolCall } from './trip-tools.js';

export async function runAnthropicTask(task: string, o: AgentOptions): Promise<TaskResult> {
  // The SDK appends /v1/messages itself: the base URL is the gateway's root.
  const client = new Anthropic({ baseURL: o.gatewayUrl, apiKey: o.apiKey });
  const tools = toolsOf(o);
  const toolDefs: Anthropic.Tool[] = tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: jsonSchemaOf(t) as Anthropic.Tool.InputSchema,
  }));

  return runWithRestarts(o, async (session, stats) => {
    // A fresh transcript for every session: never continue one another version started.
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: task }] }];
    let corrections = 0;
    for (let step = 0; step < (o.maxSteps ?? 8); step++) {
      let reply: Anthropic.Message;
      try {
        const { data, response } = await client.messages
          .create(
            { model: o.model, max_tokens: 1024, messages, tools: toolDefs },
            { headers: session.headers },
          )
          .withResponse();
        session.observe(response.status, response.headers);
        reply = data;
      } catch (err) {
        if (!(err instanceof Anthropic.APIError)) throw err;
        session.observe(err.status ?? 0, err.headers);
        session.throwIfReset();
        const report = selfCorrectionOf(err);
        if (!report || corrections >= (o.maxCorrections ?? 2)) {
          return { status: 'failed', answer: null, error: report ? summaryOf(report) : err.message };
        }
        // Nothing reached the tools. Tell the model what was wrong and ask again: the note goes
        // into the last user turn (after any tool_result blocks), so the turns still alternate.
        corrections++;
        stats.corrections++;
        const last = messages.at(-1);
        if (last?.role === 'user' && Array.isArray(last.content)) {
          last.content.push({ type: 'text', text: correctionNote(report) });
        }
        continue;
      }
      // This answer came from another version than the transcript: restart the task.
      if (session.lastTurn?.reset) throw new SessionResetError(session.id);

      const uses = reply.content.filter((b) => b.type === 'tool_use');
      if (uses.length === 0) {
        const text = reply.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
        return { status: 'completed', answer: text, error: null };
      }
      messages.push({ role: 'assistant', content: reply.content });
      const results: Anthropic.ToolResultBlockParam[] = [];
      for (const use of uses) {
        const out = await runToolCall(tools, use.name, use.input, { session });
        if (!out.ok) stats.rejectedToolCalls++;
        results.push({
          type: 'tool_result',
          tool_use_id: use.id,
          content: JSON.stringify(out.result),
          ...(out.ok ? {} : { is_error: true }),
        });
      }
      messages.push({ role: 'user', content: results });
    }
    return { status: 'failed', answer: null, error: 'too many steps' };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runAnthropicTask(process.argv[2] ?? 'What is the 3-day forecast for Lisbon?', {
    gatewayUrl: process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080',
    apiKey: process.env.SWITCHYARD_KEY ?? '',
    model: process.env.SWITCHYARD_MODEL ?? 'claude-next',
  });
  console.log(JSON.stringify(result, null, 2));
}
