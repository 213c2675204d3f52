/** The state of one dependency of the gateway, as /readyz and metrics report it. */
export interface ComponentHealth {
  readonly name: string;
  /** False while the component is down or failing; the gateway keeps serving, degraded. */
  readonly healthy: boolean;
  readonly detail: string | null;
}
