/**
 * One record per gateway request (after authentication): who, which session and version, how
 * it went and how long it took. The controller's signals (tool-call failure rate, latency,
 * error rate per cohort) are computed from these.
 */
export interface TelemetryEvent {
  /** When the request arrived (epoch ms, from the gateway's clock). */
  atMs: number;
  requestId: string;
  tenantId: string;
  keyId: string;
  sessionId: string | null;
  channel: string | null;
  /** The version that produced the answer (after any fallback); null when none was reached. */
  versionId: string | null;
  /** The cohort the session belongs to: canary when routed to the candidate, else stable. */
  cohort: 'stable' | 'canary' | null;
  wire: 'openai' | 'anthropic';
  stream: boolean;
  /** HTTP status sent to the client (a stream that failed after its start keeps 200: see errorType). */
  status: number;
  /** Why the request failed, when it did (gateway or upstream error kind). */
  errorType: string | null;
  /** Why another version answered than the one routed to: `candidate_error`, `breaker_open`. */
  fallback: string | null;
  sessionReset: boolean;
  /** Names of the tools the model called, in order. */
  toolNames: string[];
  latencyMs: number;
  /** Time to the first byte sent to the client. */
  ttfbMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Hash of the request body as the client sent it: equal prompts compare across cohorts. */
  promptHash: string | null;
  /** A copy of this request was sent to the candidate in shadow mode. */
  shadowed: boolean;
  /** The client's task id (`x-switchyard-task`), which feedback reports refer to. */
  taskId: string | null;
  /** Tool calls checked against the tenant's contracts (0 when the version has none). */
  toolCallsChecked: number;
  /** Of those, how many broke the contract (before any coercion or fallback). */
  toolCallsInvalid: number;
  /** Violation kinds of the invalid calls (`type`, `required`, `unknown_tool`, ...), one per call. */
  invalidKinds: string[];
  /** Tool calls whose arguments were coerced into shape (and then passed strictly). */
  toolCallsCoerced: number;
  /** Whether the text answer met the tenant's output format contract; null when none applies. */
  formatValid: boolean | null;
  /** What the failure policy did about an invalid answer; null when nothing was invalid. */
  policyAction: 'pass' | 'fallback' | 'error' | 'coerce' | null;
}

/** Where telemetry events are stored (port); `SqlTelemetryEventStore` is the SQL adapter. */
export interface TelemetryEventStore {
  append(events: readonly TelemetryEvent[]): Promise<void>;
}
