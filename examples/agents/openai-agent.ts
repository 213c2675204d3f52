/**
 * A tool-using agent on the official `openai` SDK, through Switchyard: a plain loop (ask, run the
 * tool calls, send the results, until the model answers in text) with the session id on every
 * request, the response headers read with `.withResponse()`, a restart on the reset signal and
 * self-correction on the gateway's 422.
 *
 *   SWITCHYARD_URL=http://127.0.0.1:8080 SWITCHYARD_KEY=sy-... SWITCHYARD_MODEL=gpt-5-turbo \
 *     npx tsx examples/agents/openai-agent.ts "Plan a weekend in Lisbon ..."
 */
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { type AgentOptions, runWithRestarts, type TaskResult, toolsOf } from './run-task.js';
import { correctionNote, SessionResetError, selfCorrectionOf, summaryOf } from './switchyard-session.js';
import { jsonSchemaOf, runToolCall } from './trip-tools.js';

export async function runOpenAITask(task: string, o: AgentOptions): Promise<TaskResult> {
  const client = new OpenAI({ baseURL: `${o.gatewayUrl}/v1`, apiKey: o.apiKey });
  const tools = toolsOf(o);
  const toolDefs: OpenAI.ChatCompletionTool[] = tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: jsonSchemaOf(t) },
  }));

  return runWithRestarts(o, async (session, stats) => {
    // A fresh transcript for every session: never continue one another version started.
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: task }];
    let corrections = 0;
    for (let step = 0; step < (o.maxSteps ?? 8); step++) {
      let completion: OpenAI.ChatCompletion;
      try {
        const { data, response } = await client.chat.completions
          .create({ model: o.model, messages, tools: toolDefs }, { headers: session.headers })
          .withResponse();
        session.observe(response.status, response.headers);
        completion = data;
      } catch (err) {
        if (!(err instanceof OpenAI.APIError)) throw err;
        session.observe(err.status ?? 0, err.headers);
        session.throwIfReset();
        const report = selfCorrectionOf(err);
        if (!report || corrections >= (o.maxCorrections ?? 2)) {
          return { status: 'failed', answer: null, error: report ? summaryOf(report) : err.message };
        }
        // Nothing reached the tools. Tell the model what was wrong and ask again.
        corrections++;
        stats.corrections++;
        messages.push({ role: 'user', content: correctionNote(report) });
        continue;
      }
      // This answer came from another version than the transcript: restart the task.
      if (session.lastTurn?.reset) throw new SessionResetError(session.id);

      const message = completion.choices[0]?.message;
      if (!message) return { status: 'failed', answer: null, error: 'no choice in the answer' };
      const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
      if (calls.length === 0) return { status: 'completed', answer: message.content, error: null };
      messages.push({ role: 'assistant', content: message.content, tool_calls: calls });
      for (const call of calls) {
        let args: unknown;
        try {
          args = JSON.parse(call.function.arguments);
        } catch {
          args = undefined;
        }
        const out = await runToolCall(tools, call.function.name, args, { session });
        if (!out.ok) stats.rejectedToolCalls++;
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(out.result) });
      }
    }
    return { status: 'failed', answer: null, error: 'too many steps' };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runOpenAITask(process.argv[2] ?? 'What is the 3-day forecast for Lisbon?', {
    gatewayUrl: process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080',
    apiKey: process.env.SWITCHYARD_KEY ?? '',
    model: process.env.SWITCHYARD_MODEL ?? 'gpt-5-turbo',
  });
  console.log(JSON.stringify(result, null, 2));
}
