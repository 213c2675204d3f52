/**
 * Tells every process sharing a registry that it changed. Messages carry only the new registry
 * version; a receiver reloads its snapshot when it sees a version newer than its own. Delivery
 * may be lost (pub/sub is at-most-once), so adapters also expose the latest published version
 * for periodic checks: a missed message is caught by the next check.
 */
export interface ChangeBus {
  publish(version: number): Promise<void>;
  subscribe(listener: (version: number) => void): () => void;
  /** The latest version any process published, if the bus keeps one. */
  latestVersion(): Promise<number | undefined>;
  /** False while the bus cannot reach its backend (the process then relies on polling). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** The embedded mode: one process, so a change reaches its listeners synchronously. */
export class InProcessChangeBus implements ChangeBus {
  private readonly listeners = new Set<(v: number) => void>();
  private latest = 0;

  async publish(version: number): Promise<void> {
    this.latest = Math.max(this.latest, version);
    for (const l of this.listeners) l(version);
  }
  subscribe(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async latestVersion(): Promise<number | undefined> {
    return this.latest;
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {
    this.listeners.clear();
  }
}
