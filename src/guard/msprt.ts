/**
 * The sequential test that decides "the canary fails more often than the control": a mixture
 * sequential probability ratio test (mSPRT; Robbins 1970, and Johari, Koomen, Pekelis & Walsh
 * 2022, "Always valid inference: continuous monitoring of A/B tests", Oper. Res. 70(3)) on the
 * cohort of origin of each failure, conditional on each rollup period's margins.
 *
 * Per rollup period t: canary trials n_t, control trials m_t, failures x_t (canary) and y_t
 * (control), k_t = x_t + y_t, canary share s_t = n_t / (n_t + m_t). If canary requests fail ρ
 * times as often as control requests, a failure comes from the canary with probability
 * π_t(ρ) = s_t ρ / (1 + s_t (ρ − 1)). The period's likelihood ratio of "ρ" against "ρ = 1" is
 *
 *   L_t(ρ) = ρ^{x_t} / (1 + s_t (ρ − 1))^{k_t}.
 *
 * Validity (ρ > 1), conditional on the past and on (n_t, m_t, k_t): when canary and control fail
 * at the same rate, x_t is hypergeometric; L_t = exp(λ x_t) / (1 − s_t + s_t e^λ)^{k_t} with
 * λ = ln ρ, and by Hoeffding (1963, Thm 4) E f(hypergeometric) ≤ E f(Binomial(k_t, s_t)) for
 * convex f, so E[L_t] ≤ 1. When the canary fails less often, x_t is Fisher-noncentral
 * hypergeometric with odds ratio < 1 — stochastically smaller — and L_t grows with x_t, so still
 * E[L_t] ≤ 1. Hence Λ_τ(ρ) = Π_{t ≥ τ} L_t(ρ) is a nonnegative supermartingale under
 * H0: "in every period the canary fails no more often than the control" — whatever the base rate
 * does over time (diurnal mix, a provider incident hitting both cohorts) and whatever the
 * realised canary share is. Nothing is asymptotic.
 *
 * The mixture: E_T = Σ_k w_k · (1/G) Σ_j Λ_{τ_k}(ρ_j), over a grid of G relative risks and over
 * restarts τ_k = origin + k·restartEvery (weights w_0 = ½, w_k = 1/(2k(k+1)), summing to 1;
 * restarts not yet reached count as 1). A weighted sum of supermartingales that start at 1 is a
 * supermartingale that starts at 1, so Ville's inequality gives P(∃T: E_T ≥ 1/α) ≤ α: the test
 * may be evaluated after every period, for as long as the stage lasts. The restarts are the
 * "change-point mixture" of e-detectors (Shin, Ramdas & Rinaldo 2023, "E-detectors"): a regression
 * that starts six hours into a soak is not buried under six hours of healthy evidence (a single
 * test from the stage start would first have to climb out of a deep hole), at the price of
 * ln(1/w_k) nats for the restart that catches it. The schedule is fixed in advance, as validity
 * requires.
 *
 * Cost: ln Λ_τ(ρ_j) = L_j(T) − L_j(τ), where L_j(t) = X_t ln ρ_j − N_j(t) is the log-ratio from the
 * origin (X = canary failures, N_j = Σ k_t ln(1 + s_t(ρ_j − 1)), both cumulative). So
 * E_T = (1/G) Σ_j e^{L_j(T)} C_j + (weight of unopened restarts), with C_j = Σ_k w_k e^{−L_j(τ_k)}
 * fixed when restart k opens: a period folds in O(G), however many restarts have opened; only
 * naming the restart that leads the evidence costs O(restarts × G).
 *
 * The always-valid p-value is min(1, 1 / max_{t ≤ T} E_t) (Johari et al.).
 */
import { addCounts, type BernoulliCounts, subtractCounts, ZERO_COUNTS } from './signals.js';
import { logAddExp, logSumExp } from './special-functions.js';

export interface MsprtConfig {
  /** Relative risks (canary rate / control rate) under the alternative, mixed with equal weight. */
  readonly rhoGrid: readonly number[];
  /** A fresh test starts this often from the origin (0 or Infinity: never restart). */
  readonly restartEveryMs: number;
}

/** Where a restart began: the cumulative statistics at its start. */
export interface MsprtRestart {
  /** ln of this restart's share of the mixture (the sum of the scheduled restarts it stands for). */
  readonly logWeight: number;
  /** Start of the first period folded after it opened. */
  readonly startMs: number;
  readonly canaryBefore: BernoulliCounts;
  readonly controlBefore: BernoulliCounts;
  /** L_j at the restart, for each ρ_j. */
  readonly logRatiosBefore: readonly number[];
}

export interface MsprtState {
  readonly originMs: number;
  /** The index of the next scheduled restart not yet opened. */
  readonly nextRestart: number;
  /** Cumulative counts since the origin. */
  readonly canary: BernoulliCounts;
  readonly control: BernoulliCounts;
  /** N_j = Σ_t k_t ln(1 + s_t (ρ_j − 1)) since the origin, for each ρ_j. */
  readonly logNormalisers: readonly number[];
  /** ln C_j = ln Σ_k w_k e^{−L_j(τ_k)} over the opened restarts, for each ρ_j. */
  readonly logRestartMass: readonly number[];
  readonly restarts: readonly MsprtRestart[];
  /** ln E_T after the last period folded. */
  readonly logE: number;
  /** max over folded periods of ln E_t (for the always-valid p-value). */
  readonly maxLogE: number;
}

/** One period's failure counts of both cohorts. */
export interface MsprtPeriod {
  readonly startMs: number;
  readonly canary: BernoulliCounts;
  readonly control: BernoulliCounts;
}

export function openMsprt(originMs: number): MsprtState {
  return {
    originMs,
    nextRestart: 0,
    canary: ZERO_COUNTS,
    control: ZERO_COUNTS,
    logNormalisers: [],
    logRestartMass: [],
    restarts: [],
    logE: 0,
    maxLogE: 0,
  };
}

/** Weight of restart k: ½ for the stage start, then 1/(2k(k+1)); Σ_k w_k = 1. */
function restartWeight(k: number): number {
  return k === 0 ? 0.5 : 1 / (2 * k * (k + 1));
}

/** Total weight of restarts k ≥ next (those not opened yet, which count as E = 1). */
function unopenedWeight(next: number): number {
  return next === 0 ? 1 : 1 / (2 * next);
}

function restartsDue(state: MsprtState, startMs: number, config: MsprtConfig): number {
  const every = config.restartEveryMs;
  const scheduled =
    every > 0 && Number.isFinite(every) ? Math.floor((startMs - state.originMs) / every) + 1 : 1;
  return Math.max(state.nextRestart, 1, scheduled);
}

const logRhoCache = new WeakMap<readonly number[], readonly number[]>();

function logRhos(config: MsprtConfig): readonly number[] {
  let cached = logRhoCache.get(config.rhoGrid);
  if (!cached) {
    cached = config.rhoGrid.map(Math.log);
    logRhoCache.set(config.rhoGrid, cached);
  }
  return cached;
}

/** L_j = X ln ρ_j − N_j for each ρ_j. */
function logRatios(canaryEvents: number, logNormalisers: readonly number[], lr: readonly number[]): number[] {
  const out = new Array<number>(lr.length);
  for (let j = 0; j < lr.length; j++) out[j] = canaryEvents * (lr[j] ?? 0) - (logNormalisers[j] ?? 0);
  return out;
}

/** Folds one period into the test. Pure: returns a new state; O(grid size). */
export function foldMsprt(state: MsprtState, period: MsprtPeriod, config: MsprtConfig): MsprtState {
  const lr = logRhos(config);
  const G = lr.length;
  let logNormalisers = state.logNormalisers.length === G ? state.logNormalisers : lr.map(() => 0);
  let logRestartMass =
    state.logRestartMass.length === G ? state.logRestartMass : lr.map(() => Number.NEGATIVE_INFINITY);
  let restarts = state.restarts;
  const due = restartsDue(state, period.startMs, config);
  if (due > state.nextRestart) {
    // Restarts whose times passed without a period between them all start here, as one.
    let w = 0;
    for (let k = state.nextRestart; k < due; k++) w += restartWeight(k);
    const logWeight = Math.log(w);
    const before = logRatios(state.canary.events, logNormalisers, lr);
    logRestartMass = logRestartMass.map((m, j) => logAddExp(m, logWeight - (before[j] ?? 0)));
    restarts = [
      ...restarts,
      {
        logWeight,
        startMs: period.startMs,
        canaryBefore: state.canary,
        controlBefore: state.control,
        logRatiosBefore: before,
      },
    ];
  }
  const failures = period.canary.events + period.control.events;
  if (failures > 0) {
    const trials = period.canary.trials + period.control.trials;
    const share = trials > 0 ? period.canary.trials / trials : 0;
    logNormalisers = logNormalisers.map(
      (v, j) => v + failures * Math.log1p(share * ((config.rhoGrid[j] ?? 1) - 1)),
    );
  }
  const canary = addCounts(state.canary, period.canary);
  const now = logRatios(canary.events, logNormalisers, lr);
  const perRho = now.map((l, j) => l + (logRestartMass[j] ?? Number.NEGATIVE_INFINITY));
  const logE = logAddExp(logSumExp(perRho) - Math.log(G), Math.log(unopenedWeight(due)));
  return {
    originMs: state.originMs,
    nextRestart: due,
    canary,
    control: addCounts(state.control, period.control),
    logNormalisers,
    logRestartMass,
    restarts,
    logE,
    maxLogE: Math.max(state.maxLogE, logE),
  };
}

/** One restart's own share of the evidence, and the data it has seen. */
export interface RestartTerm {
  readonly startMs: number;
  /** ln(w_k · Ē_k): this restart's term in E_T (Ē_k averaged over the grid). */
  readonly logTerm: number;
  readonly canary: BernoulliCounts;
  readonly control: BernoulliCounts;
}

/**
 * Each opened restart's term in the mixture with its counts since it opened (O(restarts × G)).
 * A single term at or above 1/α is itself enough to reject (the mixture is at least as large), so
 * the caller can demand that the term which rejects also shows a practical effect on its own data.
 */
export function restartTerms(state: MsprtState, config: MsprtConfig): RestartTerm[] {
  const lr = logRhos(config);
  const logG = Math.log(lr.length);
  const now = logRatios(state.canary.events, state.logNormalisers, lr);
  return state.restarts.map((r) => ({
    startMs: r.startMs,
    logTerm: r.logWeight - logG + logSumExp(now.map((l, j) => l - (r.logRatiosBefore[j] ?? 0))),
    canary: subtractCounts(state.canary, r.canaryBefore),
    control: subtractCounts(state.control, r.controlBefore),
  }));
}

/** Johari et al.'s always-valid p-value: min(1, 1 / max_t E_t). */
export function alwaysValidPValue(state: MsprtState): number {
  return Math.min(1, Math.exp(-state.maxLogE));
}
