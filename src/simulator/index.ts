/**
 * The provider simulator: a real HTTP server speaking the OpenAI and Anthropic wire formats,
 * playing model versions from seeded behaviour profiles. See README.md in this folder.
 */
export { buildJudgeMessages, JUDGE_MARKER, type JudgeInput, type JudgeVerdict } from './judge.js';
export { type ExpectedCall, type KnownCase, knownCasesFromBfcl } from './known-cases.js';
export {
  type BehaviourProfile,
  BehaviourProfileSchema,
  DRIFT_KINDS,
  type Drift,
  type DriftKind,
  DriftSchema,
  defaultProfile,
  type ResolvedProfile,
  resolveProfile,
} from './profile.js';
export {
  KnownCaseSchema,
  type LoadedSimulatorConfig,
  loadSimulatorConfig,
  type ParseOptions,
  parseScenarioProfiles,
  type SimulatorConfig,
  SimulatorConfigSchema,
} from './scenario-config.js';
export {
  type RunningSimulator,
  type SimulatorLogger,
  type SimulatorOptions,
  type SimulatorStats,
  startSimulator,
} from './server.js';
