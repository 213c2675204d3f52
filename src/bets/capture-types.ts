import type { CaseInput, CaseSpec } from './bets-types.js';
import type { Answer } from './run-types.js';

/** Opt-in capture of a tenant's live traffic, and the examples it yields for review. */

export interface CaptureSettings {
  tenantId: string;
  enabled: boolean;
  /** Share of the tenant's requests captured, 0..1. */
  sampleRate: number;
  /** The suite (workflow) approved examples join. */
  workflow: string;
  updatedBy: string;
  updatedAt: string;
}

/**
 * captured  stored, redacted, not yet replayed
 * proposed  replayed on the stable version with consistent, contract-satisfying answers: waits for a person
 * approved  a person accepted it; it is a case of the suite now
 * rejected  a person refused it
 * discarded replay showed it is not a reliable golden example (inconsistent, or breaks a contract)
 */
export type CaptureStatus = 'captured' | 'proposed' | 'approved' | 'rejected' | 'discarded';

export interface CaptureProposal {
  case: CaseSpec;
  /** How much the replayed stable answers agreed (1 = identical). */
  confidence: number;
  replays: Answer[];
  reasons: string[];
}

export interface CapturedExample {
  id: string;
  tenantId: string;
  workflow: string;
  capturedAt: string;
  /** Redacted before it was stored. */
  input: CaseInput;
  response: Answer;
  /** Hash of the input, so the same request captured twice becomes one case. */
  inputHash: string;
  status: CaptureStatus;
  proposal: CaptureProposal | null;
  note: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  caseId: string | null;
  updatedAt: string;
}

export interface FleetRunRecord {
  id: string;
  upgradeId: string | null;
  channel: string;
  candidateVersionId: string;
  status: 'running' | 'completed';
  tenants: string[];
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}
