/**
 * A LangGraph.js ReAct agent (ChatOpenAI + zod tools) through Switchyard.
 *
 * - ChatOpenAI points at the gateway's /v1 with the tenant's key and asks for the channel.
 * - LangChain does not hand out response headers, so the session's `fetch` goes in
 *   `configuration.fetch`: it sends `x-session-id` on every request and records each answer's
 *   Switchyard headers.
 * - A `postModelHook` runs after every model call, before any tool: when the answer carried
 *   `x-switchyard-session-reset`, it stops the graph, and the task starts again from the user's
 *   request on a fresh session (the transcript so far came from the rolled-back version).
 * - LangChain retries failed calls (6 times, with backoff) unless told not to: `onFailedAttempt`
 *   stops on `x-should-retry: false`, which the gateway's 422 carries. The 422 comes out of the
 *   graph as the OpenAI SDK's error; the agent adds a correction note and continues from the
 *   last state it streamed.
 *
 *   SWITCHYARD_URL=http://127.0.0.1:8080 SWITCHYARD_KEY=sy-... SWITCHYARD_MODEL=gpt-5-turbo \
 *     npx tsx examples/agents/langgraph-agent.ts "Plan a weekend in Lisbon ..."
 */
import { pathToFileURL } from 'node:url';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { ChatOpenAI } from '@langchain/openai';
import { type AgentOptions, runWithRestarts, type TaskResult, toolsOf } from './run-task.js';
import {
  correctionNote,
  mustNotRetry,
  SessionResetError,
  selfCorrectionOf,
  summaryOf,
} from './switchyard-session.js';

/** LangChain's retry decision: never retry what the gateway says not to; give up on other 4xx. */
function onFailedAttempt(err: unknown): void {
  const status = (err as { status?: unknown } | null)?.status;
  if (mustNotRetry(err)) throw err;
  if (typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429)
    throw err;
  if ((err as Error | null)?.name === 'AbortError') throw err;
}

export async function runLangGraphTask(task: string, o: AgentOptions): Promise<TaskResult> {
  return runWithRestarts(o, async (session, stats) => {
    const llm = new ChatOpenAI({
      model: o.model,
      apiKey: o.apiKey,
      configuration: { baseURL: `${o.gatewayUrl}/v1`, fetch: session.fetch },
      onFailedAttempt,
    });
    const tools = toolsOf(o).map((t) =>
      tool((args) => t.run(args, { session }), {
        name: t.name,
        description: t.description,
        schema: t.schema,
      }),
    );
    const agent = createReactAgent({
      llm,
      tools,
      // After every model call, before its tool calls run: a reset answer stops the graph.
      postModelHook: () => {
        session.throwIfReset();
        return {};
      },
    });

    // A fresh transcript for every session: never continue one another version started.
    let messages: BaseMessage[] = [new HumanMessage(task)];
    let corrections = 0;
    for (;;) {
      try {
        const states = await agent.stream(
          { messages },
          // Each step is three nodes: the model, the hook, the tools.
          { streamMode: 'values', recursionLimit: 3 * (o.maxSteps ?? 8) + 1 },
        );
        for await (const state of states) messages = state.messages;
        break;
      } catch (err) {
        if (err instanceof SessionResetError) throw err; // runWithRestarts starts a fresh session
        const report = selfCorrectionOf(err);
        if (!report || corrections >= (o.maxCorrections ?? 2)) {
          return { status: 'failed', answer: null, error: report ? summaryOf(report) : String(err) };
        }
        // Nothing reached the tools. Tell the model what was wrong and continue from the last state.
        corrections++;
        stats.corrections++;
        messages = [...messages, new HumanMessage(correctionNote(report))];
      }
    }
    // Calls LangChain itself refused: unparsable arguments, or arguments its zod check rejected.
    for (const m of messages) {
      if (m instanceof AIMessage) stats.rejectedToolCalls += m.invalid_tool_calls?.length ?? 0;
      if (m instanceof ToolMessage && m.status === 'error') stats.rejectedToolCalls++;
    }
    const last = messages.at(-1);
    const answer = last instanceof AIMessage && typeof last.content === 'string' ? last.content : null;
    return answer === null
      ? { status: 'failed', answer: null, error: 'the agent ended without an answer' }
      : { status: 'completed', answer, error: null };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runLangGraphTask(process.argv[2] ?? 'What is the 3-day forecast for Lisbon?', {
    gatewayUrl: process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080',
    apiKey: process.env.SWITCHYARD_KEY ?? '',
    model: process.env.SWITCHYARD_MODEL ?? 'gpt-5-turbo',
  });
  console.log(JSON.stringify(result, null, 2));
}
