type Scope = string | null;

interface Subscriber {
  scope: Scope;
  last: string;
  send: (revision: string) => void;
  end: () => void;
}

/**
 * One shared poller behind every live stream: while anyone watches, it computes the revision of
 * each distinct scope (the platform's, or one tenant's) every `intervalMs` and tells each watcher
 * whose revision moved. Nobody watching, no timer; a failed check is reported and retried on the
 * next tick.
 */
export class LiveRevisions {
  private readonly subs = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    private readonly revisions: (scopes: readonly Scope[]) => Promise<Map<Scope, string>>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Watches `scope`, whose revision is `current` now; returns the unsubscribe. */
  subscribe(scope: Scope, current: string, send: (revision: string) => void, end: () => void): () => void {
    const sub: Subscriber = { scope, last: current, send, end };
    this.subs.add(sub);
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.subs.delete(sub);
      if (this.subs.size === 0) this.stopTimer();
    };
  }

  get watchers(): number {
    return this.subs.size;
  }

  /** One check now (the timer calls it); overlapping checks are skipped. */
  async check(): Promise<void> {
    if (this.checking || this.subs.size === 0) return;
    this.checking = true;
    try {
      const scopes = [...new Set([...this.subs].map((s) => s.scope))];
      const now = await this.revisions(scopes);
      for (const s of this.subs) {
        const rev = now.get(s.scope);
        if (rev !== undefined && rev !== s.last) {
          s.last = rev;
          s.send(rev);
        }
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.checking = false;
    }
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    this.stopTimer();
    for (const s of this.subs) s.end();
    this.subs.clear();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
