import type { CaseSpec } from '../bets/bets-types.js';
import type { FleetSpec, FleetTenant } from './fleet-spec.js';

/**
 * The demo fleet `switchyard serve` starts with when nothing is configured: thirteen tenants with
 * different risk profiles over the four default rollout groups. Three are hand-written agents
 * (a legal summarizer with rigid JSON output, a support bot with simple tools, a code reviewer with
 * nested tool schemas); the others take their tools and golden cases from real BFCL cases
 * (data/bfcl), which nobody on this project wrote.
 */

const LEGAL_SCHEMA = {
  type: 'object',
  properties: {
    summary: { type: 'string', minLength: 1 },
    parties: { type: 'array', items: { type: 'string' } },
    risk: { type: 'string', enum: ['low', 'medium', 'high'] },
  },
  required: ['summary', 'parties', 'risk'],
  additionalProperties: false,
};

const LEGAL_SYSTEM = `You summarize contracts for a legal team. Reply with JSON only, matching this JSON Schema: ${JSON.stringify(LEGAL_SCHEMA)}`;

const legalCase = (id: string, text: string): CaseSpec => ({
  id,
  input: { system: LEGAL_SYSTEM, messages: [{ role: 'user', content: text }], tools: [] },
  assertions: [{ kind: 'format', check: 'json', extract: 'whole', schema: LEGAL_SCHEMA }],
});

const SUPPORT_TOOLS = [
  {
    name: 'lookup_order',
    description: 'Find an order by its number',
    parameters: {
      type: 'object',
      properties: { order_id: { type: 'integer', minimum: 1 }, include_items: { type: 'boolean' } },
      required: ['order_id'],
      additionalProperties: false,
    },
  },
  {
    name: 'create_ticket',
    description: 'Open a support ticket for a customer problem',
    parameters: {
      type: 'object',
      properties: {
        subject: { type: 'string', minLength: 3 },
        priority: { type: 'string', enum: ['low', 'normal', 'urgent'] },
        order_id: { type: 'integer' },
      },
      required: ['subject', 'priority'],
      additionalProperties: false,
    },
  },
];

const SUPPORT_SYSTEM =
  'You are the support assistant of an online shop. Use the tools to look up orders and open tickets.';

const supportCase = (id: string, text: string, tool: string): CaseSpec => ({
  id,
  input: { system: SUPPORT_SYSTEM, messages: [{ role: 'user', content: text }], tools: SUPPORT_TOOLS },
  assertions: [{ kind: 'tool_call', tool }],
});

const REVIEW_TOOL = {
  name: 'post_review',
  description: 'Post review comments on a pull request',
  parameters: {
    type: 'object',
    properties: {
      pull_request: { type: 'integer', minimum: 1 },
      verdict: { type: 'string', enum: ['approve', 'request_changes', 'comment'] },
      comments: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            path: { type: 'string', minLength: 1 },
            line: { type: 'integer', minimum: 1 },
            severity: { type: 'string', enum: ['nit', 'minor', 'major', 'blocker'] },
            body: { type: 'string', minLength: 1 },
          },
          required: ['path', 'line', 'severity', 'body'],
          additionalProperties: false,
        },
      },
    },
    required: ['pull_request', 'verdict', 'comments'],
    additionalProperties: false,
  },
};

const REVIEW_SYSTEM = 'You review pull requests and post your findings with the post_review tool.';

const reviewCase = (id: string, text: string): CaseSpec => ({
  id,
  input: { system: REVIEW_SYSTEM, messages: [{ role: 'user', content: text }], tools: [REVIEW_TOOL] },
  assertions: [{ kind: 'tool_call', tool: 'post_review' }],
});

const bfclTenant = (
  t: Pick<FleetTenant, 'id' | 'name' | 'role' | 'group' | 'requestsPerHour'> & Partial<FleetTenant>,
  file: string,
  offset: number,
  count: number,
): FleetTenant => ({ tools: [], cases: [], bfcl: { file, offset, count }, ...t });

export const DEMO_TENANTS: FleetTenant[] = [
  {
    id: 'legal-summarizer',
    name: 'Legal summarizer',
    role: 'Summarizes contracts into a rigid JSON record that a case-management system ingests.',
    group: 'conservative',
    failurePolicy: 'error',
    actionPolicy: 'rollback',
    riskProfile: { criticality: 'high', outputFormatRigidity: 'high', declaredSensitivity: 'high' },
    system: LEGAL_SYSTEM,
    tools: [],
    format: { kind: 'json_schema', schema: LEGAL_SCHEMA },
    cases: [
      legalCase(
        'nda-acme-globex',
        'Summarize this NDA between Acme Corp and Globex Ltd: two years, mutual, no non-compete.',
      ),
      legalCase(
        'lease-harbor',
        'Summarize the office lease between Harbor Properties and Initech, 5 years with a break clause.',
      ),
      legalCase(
        'supply-umbrella',
        'Summarize the supply agreement between Umbrella Inc and Wayne Industries with penalties for delay.',
      ),
      legalCase(
        'license-hooli',
        'Summarize the software license from Hooli to Pied Piper, perpetual, non-transferable.',
      ),
    ],
    requestsPerHour: 300,
  },
  {
    id: 'support-bot',
    name: 'Support bot',
    role: 'Answers shoppers, looks up orders and opens tickets with two simple tools.',
    group: 'early',
    failurePolicy: 'fallback',
    actionPolicy: 'rollback',
    riskProfile: { criticality: 'medium', toolCallComplexity: 'low' },
    system: SUPPORT_SYSTEM,
    tools: SUPPORT_TOOLS,
    cases: [
      supportCase('order-status', 'Where is my order 4521? Please look up the order.', 'lookup_order'),
      supportCase('order-items', 'Look up order 77 and tell me what was in it.', 'lookup_order'),
      supportCase(
        'broken-item',
        'My blender arrived broken, please create a ticket for it.',
        'create_ticket',
      ),
    ],
    requestsPerHour: 1200,
  },
  {
    id: 'code-reviewer',
    name: 'Code review agent',
    role: 'Reviews pull requests and posts structured comments (a nested tool schema).',
    group: 'standard',
    failurePolicy: 'error',
    actionPolicy: 'pause',
    riskProfile: { toolCallComplexity: 'high' },
    system: REVIEW_SYSTEM,
    tools: [REVIEW_TOOL],
    cases: [
      reviewCase('pr-101', 'Review pull request 101: src/db.ts line 40 builds SQL by string concatenation.'),
      reviewCase('pr-202', 'Review pull request 202: README.md line 3 has a typo in the install command.'),
      reviewCase('pr-303', 'Review pull request 303: src/auth.ts line 12 compares passwords with ==.'),
    ],
    requestsPerHour: 400,
  },
  bfclTenant(
    {
      id: 'weather-concierge',
      name: 'Weather concierge',
      role: 'A travel app assistant answering weather questions (BFCL live cases).',
      group: 'pioneers',
      riskProfile: { criticality: 'low' },
      requestsPerHour: 900,
    },
    'BFCL_v4_live_simple',
    3,
    10,
  ),
  bfclTenant(
    {
      id: 'math-tutor',
      name: 'Math tutor',
      role: 'Helps students with geometry and algebra through calculator tools (BFCL).',
      group: 'pioneers',
      riskProfile: { criticality: 'low' },
      requestsPerHour: 700,
    },
    'BFCL_v4_simple_python',
    0,
    12,
  ),
  bfclTenant(
    {
      id: 'research-agent',
      name: 'Research agent',
      role: 'An internal research assistant calling many small APIs (BFCL live cases).',
      group: 'pioneers',
      requestsPerHour: 500,
    },
    'BFCL_v4_live_simple',
    24,
    12,
  ),
  bfclTenant(
    {
      id: 'travel-booker',
      name: 'Travel booker',
      role: 'Plans routes and finds places for business travellers (BFCL multiple).',
      group: 'early',
      requestsPerHour: 800,
    },
    'BFCL_v4_multiple',
    20,
    10,
  ),
  bfclTenant(
    {
      id: 'sales-crm',
      name: 'Sales CRM assistant',
      role: 'Looks up companies and market data for account managers (BFCL multiple).',
      group: 'early',
      requestsPerHour: 600,
    },
    'BFCL_v4_multiple',
    50,
    10,
  ),
  bfclTenant(
    {
      id: 'finance-analyst',
      name: 'Finance analyst',
      role: 'Computes growth rates and ratios for analysts (BFCL multiple).',
      group: 'standard',
      riskProfile: { criticality: 'high' },
      requestsPerHour: 700,
    },
    'BFCL_v4_multiple',
    10,
    10,
  ),
  bfclTenant(
    {
      id: 'logistics-planner',
      name: 'Logistics planner',
      role: 'Plans physics-heavy logistics calculations whose numeric arguments must stay numbers (BFCL).',
      group: 'standard',
      failurePolicy: 'error',
      requestsPerHour: 500,
    },
    'BFCL_v4_simple_python',
    24,
    12,
  ),
  bfclTenant(
    {
      id: 'hr-assistant',
      name: 'HR assistant',
      role: 'Answers employees and files requests in HR systems (BFCL live cases).',
      group: 'standard',
      requestsPerHour: 400,
    },
    'BFCL_v4_live_simple',
    40,
    12,
  ),
  bfclTenant(
    {
      id: 'medical-intake',
      name: 'Medical intake',
      role: 'Collects patient details before a visit; regulated, so it moves last (BFCL).',
      group: 'conservative',
      failurePolicy: 'error',
      actionPolicy: 'escalate',
      riskProfile: { criticality: 'high', declaredSensitivity: 'high' },
      requestsPerHour: 300,
    },
    'BFCL_v4_simple_python',
    48,
    10,
  ),
  bfclTenant(
    {
      id: 'data-pipeline',
      name: 'Data pipeline agent',
      role: 'A nightly batch agent frozen on its current version during a data migration.',
      group: 'standard',
      frozen: true,
      requestsPerHour: 200,
    },
    'BFCL_v4_multiple',
    30,
    8,
  ),
];

/** The demo fleet on channel `assistant`: `sim-2026-01` is stable, `sim-2026-06` the candidate. */
export const DEMO_FLEET: FleetSpec = {
  channel: 'assistant',
  stable: { id: 'assistant-2026-01', upstreamModel: 'sim-2026-01' },
  candidate: { id: 'assistant-2026-06', upstreamModel: 'sim-2026-06' },
  judge: { id: 'judge-2026-01', upstreamModel: 'sim-judge' },
  tenants: DEMO_TENANTS,
};
