/**
 * What the three example agents share: their options, their result, and the restart loop that
 * handles Switchyard's reset signal (run the task on a session; if the gateway reset the session,
 * throw its transcript away and run the task again on a fresh session).
 */
import { reportOutcome, SessionResetError, SwitchyardSession } from './switchyard-session.js';
import { type AgentTool, TRIP_TOOLS } from './trip-tools.js';

export interface AgentOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080 (no /v1). */
  gatewayUrl: string;
  /** The tenant's Switchyard API key. */
  apiKey: string;
  /** The channel to ask for (Switchyard picks the version). */
  model: string;
  tools?: readonly AgentTool[];
  /** Model calls per session before the agent gives up (default 8). */
  maxSteps?: number;
  /** Self-correction retries after the gateway rejected a tool call, per session (default 2). */
  maxCorrections?: number;
  /** Restarts on a fresh session after a reset (default 2). */
  maxRestarts?: number;
  /** Kept across restarts; default a random id. */
  taskId?: string;
  /** Send the task's outcome to /v1/feedback (default true). */
  feedback?: boolean;
}

export interface TaskResult {
  taskId: string;
  status: 'completed' | 'failed';
  answer: string | null;
  error: string | null;
  /** Every session the task used, in order: all but the last ended with a reset. */
  sessions: SwitchyardSession[];
  /** Tool calls the gateway rejected (422) that the agent answered with a correction note. */
  corrections: number;
  /** Tool calls the agent's own schema check refused. Behind Switchyard: always 0. */
  rejectedToolCalls: number;
}

export interface TaskStats {
  corrections: number;
  rejectedToolCalls: number;
}

export interface SessionOutcome {
  status: 'completed' | 'failed';
  answer: string | null;
  error: string | null;
}

/** Runs `attempt` on a session; after a reset, again from the start on a fresh session. */
export async function runWithRestarts(
  o: AgentOptions,
  attempt: (session: SwitchyardSession, stats: TaskStats) => Promise<SessionOutcome>,
): Promise<TaskResult> {
  const stats: TaskStats = { corrections: 0, rejectedToolCalls: 0 };
  const sessions: SwitchyardSession[] = [];
  let session = new SwitchyardSession(o.taskId);
  let outcome: SessionOutcome;
  for (;;) {
    sessions.push(session);
    try {
      outcome = await attempt(session, stats);
      break;
    } catch (e) {
      if (!(e instanceof SessionResetError)) throw e;
      if (sessions.length > (o.maxRestarts ?? 2)) {
        outcome = { status: 'failed', answer: null, error: e.message };
        break;
      }
      session = session.next();
    }
  }
  if (o.feedback ?? true) {
    const result = outcome.status === 'completed' ? 'success' : 'failure';
    await reportOutcome(o.gatewayUrl, o.apiKey, o.model, session, result, outcome.error ?? undefined);
  }
  return { taskId: session.taskId, ...outcome, sessions, ...stats };
}

export const toolsOf = (o: AgentOptions) => o.tools ?? TRIP_TOOLS;
