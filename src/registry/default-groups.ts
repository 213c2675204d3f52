import type { GroupCreate } from './inputs.js';

/**
 * The four rollout groups of the design, seeded into an empty registry. They are data: an
 * operator changes a plan through the API like any other record (audited, revertible).
 */
export const DEFAULT_GROUPS: readonly GroupCreate[] = [
  {
    id: 'pioneers',
    name: 'Pioneers',
    rank: 0,
    plan: {
      stages: [{ percent: 100, soakHours: 0, approvals: [] }],
      betsThresholds: { toolCall: 0.9, format: 0.9, semantic: 0.8 },
      shadowHours: 0,
      minDurationHours: 0,
    },
  },
  {
    id: 'early',
    name: 'Early adopters',
    rank: 1,
    plan: {
      stages: [
        { percent: 10, soakHours: 24, approvals: [] },
        { percent: 100, soakHours: 24, approvals: [] },
      ],
      betsThresholds: { toolCall: 0.95, format: 0.95, semantic: 0.85 },
      shadowHours: 4,
      minDurationHours: 48,
    },
  },
  {
    id: 'standard',
    name: 'Standard',
    rank: 2,
    plan: {
      stages: [
        { percent: 5, soakHours: 24, approvals: [] },
        { percent: 25, soakHours: 24, approvals: [] },
        { percent: 50, soakHours: 24, approvals: [] },
        { percent: 100, soakHours: 0, approvals: [] },
      ],
      betsThresholds: { toolCall: 0.95, format: 0.97, semantic: 0.9 },
      shadowHours: 24,
      minDurationHours: 72,
    },
  },
  {
    id: 'conservative',
    name: 'Conservative',
    rank: 3,
    plan: {
      stages: [
        { percent: 1, soakHours: 72, approvals: ['platform', 'tenant'] },
        { percent: 10, soakHours: 72, approvals: ['platform', 'tenant'] },
        { percent: 50, soakHours: 72, approvals: ['platform', 'tenant'] },
        { percent: 100, soakHours: 0, approvals: ['platform', 'tenant'] },
      ],
      betsThresholds: { toolCall: 0.99, format: 0.99, semantic: 0.95 },
      shadowHours: 72,
      minDurationHours: 336,
    },
  },
];
