/**
 * The tools the example agents use: a small trip planner. Each tool is a zod schema (what the
 * model must send) and a function. The same schemas, as JSON Schema (`z.toJSONSchema`), are the
 * tool contracts registered in Switchyard for the tenant, so the gateway checks every call a
 * model makes against exactly what these functions accept.
 */
import { z } from 'zod';
import type { SwitchyardSession } from './switchyard-session.js';

export interface ToolContext {
  /** The session the call came from (its id makes a good idempotency key). */
  session: SwitchyardSession;
}

export interface AgentTool<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  schema: S;
  run(args: z.infer<S>, ctx: ToolContext): Promise<unknown>;
}

function defineTool<S extends z.ZodObject>(t: AgentTool<S>): AgentTool {
  return t as unknown as AgentTool;
}

export const getForecast = defineTool({
  name: 'get_forecast',
  description: 'Daily weather forecast for a city',
  schema: z.object({
    city: z.string().min(1).describe('the city'),
    days: z.number().int().min(1).max(7).describe('how many days, 1 to 7'),
  }),
  run: async ({ city, days }) => ({
    city,
    days: Array.from({ length: days }, (_, i) => ({ day: i + 1, highC: 14 + ((i * 3) % 7), rainMm: i % 2 })),
  }),
});

const CURRENCY = z.enum(['EUR', 'USD', 'GBP', 'JPY', 'NOK']);
const PER_EUR: Record<z.infer<typeof CURRENCY>, number> = {
  EUR: 1,
  USD: 1.08,
  GBP: 0.85,
  JPY: 162,
  NOK: 11.6,
};

export const convertCurrency = defineTool({
  name: 'convert_currency',
  description: 'Convert an amount of money from one currency to another',
  schema: z.object({
    amount: z.number().positive().describe('the amount to convert'),
    from: CURRENCY.describe('currency code of the amount'),
    to: CURRENCY.describe('currency code to convert to'),
  }),
  run: async ({ amount, from, to }) => ({
    amount,
    from,
    to,
    converted: Math.round((amount / PER_EUR[from]) * PER_EUR[to] * 100) / 100,
  }),
});

export const createReminder = defineTool({
  name: 'create_reminder',
  description: 'Create a reminder for the traveller',
  schema: z.object({
    text: z.string().min(1).describe('what to remind'),
    date: z.string().min(1).describe('the day, YYYY-MM-DD'),
  }),
  run: async ({ text, date }, ctx) => ({ id: `rem-${ctx.session.taskId}-${date}`, text, date }),
});

export const TRIP_TOOLS: readonly AgentTool[] = [getForecast, convertCurrency, createReminder];

/** The tool's arguments as JSON Schema: for the SDKs' tool definitions and Switchyard's contracts. */
export function jsonSchemaOf(tool: AgentTool): Record<string, unknown> {
  return z.toJSONSchema(tool.schema) as Record<string, unknown>;
}

/**
 * Runs one tool call the model made, for agents that run their tools themselves (the SDK
 * agents; LangChain does this in its ToolNode). Arguments that do not parse or do not match the
 * schema never reach the tool: the model gets the error as the tool's result instead. Behind
 * Switchyard that does not happen, because the gateway already checked the call.
 */
export async function runToolCall(
  tools: readonly AgentTool[],
  name: string,
  args: unknown,
  ctx: ToolContext,
): Promise<{ ok: boolean; result: unknown }> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) return { ok: false, result: { error: `no tool named ${name}` } };
  const parsed = tool.schema.safeParse(args);
  if (!parsed.success) return { ok: false, result: { error: z.prettifyError(parsed.error) } };
  return { ok: true, result: await tool.run(parsed.data, ctx) };
}
