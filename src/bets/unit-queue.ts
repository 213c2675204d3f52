import type { SuiteCase } from './bets-types.js';
import type { Target } from './run-types.js';

/** One attempt to make: a case, on which version, which of its k attempts. */
export interface Unit {
  c: SuiteCase;
  target: Target;
  attempt: number;
}

/**
 * The units of a run. Workers may add units (baseline attempts) while others are in flight, so
 * "empty" means done only when no unit is in flight either; close() stops handing out units.
 */
export class UnitQueue {
  private readonly items: Unit[] = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private waiters: (() => void)[] = [];

  push(u: Unit): void {
    this.items.push(u);
    this.wake();
  }

  async take(): Promise<Unit | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.head < this.items.length) {
        const u = this.items[this.head] as Unit;
        // Index instead of shift(): shift is O(n) on the large arrays of a big suite.
        this.items[this.head++] = undefined as unknown as Unit;
        this.active++;
        return u;
      }
      if (this.active === 0) {
        this.close();
        return undefined;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  done(): void {
    this.active--;
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
