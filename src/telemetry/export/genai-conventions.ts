/**
 * Names from the OpenTelemetry GenAI semantic conventions (development status). They are copied
 * here, as @opentelemetry/semantic-conventions advises for incubating names, instead of imported
 * from its `incubating` entry point, which may change in any minor release; a test compares them
 * with the installed package so a rename is noticed.
 */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  conversationId: 'gen_ai.conversation.id',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  toolName: 'gen_ai.tool.name',
  toolType: 'gen_ai.tool.type',
  evaluationName: 'gen_ai.evaluation.name',
  evaluationScoreValue: 'gen_ai.evaluation.score.value',
  evaluationScoreLabel: 'gen_ai.evaluation.score.label',
  evaluationExplanation: 'gen_ai.evaluation.explanation',
} as const;

export const GEN_AI_OPERATION = { chat: 'chat', executeTool: 'execute_tool' } as const;
export const GEN_AI_PROVIDER = { openai: 'openai', anthropic: 'anthropic' } as const;
export const GEN_AI_EVENT_EVALUATION_RESULT = 'gen_ai.evaluation.result';

/** Switchyard's own attributes, in its namespace. */
export const SWITCHYARD = {
  tenant: 'switchyard.tenant',
  cohort: 'switchyard.cohort',
  session: 'switchyard.session',
  requestId: 'switchyard.request.id',
  version: 'switchyard.version',
  taskId: 'switchyard.task.id',
  fallback: 'switchyard.fallback',
  sessionReset: 'switchyard.session.reset',
  shadowed: 'switchyard.shadowed',
  toolCallsChecked: 'switchyard.validation.tool_calls.checked',
  toolCallsInvalid: 'switchyard.validation.tool_calls.invalid',
  toolCallsCoerced: 'switchyard.validation.tool_calls.coerced',
  invalidKinds: 'switchyard.validation.invalid_kinds',
  formatValid: 'switchyard.validation.format_valid',
  policyAction: 'switchyard.validation.policy_action',
  toolValidation: 'switchyard.validation.status',
  toolIndex: 'switchyard.tool.index',
  upgrade: 'switchyard.upgrade',
  runIds: 'switchyard.bets.run_ids',
  threshold: 'switchyard.bets.threshold',
  passed: 'switchyard.bets.passed',
  total: 'switchyard.bets.total',
} as const;
