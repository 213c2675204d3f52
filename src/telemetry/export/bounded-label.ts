/** The label value given to everything beyond a label's cap. */
export const OTHER_LABEL = 'other';

/**
 * Keeps a metric label's values bounded: the first `limit` distinct values seen keep their own
 * value, every later one becomes `other`. First sight (not current traffic) decides, so a value
 * never moves between series once it has one: a series' counter would otherwise restart or be
 * split. A tenant beyond the cap is still counted, only under `other`.
 */
export class BoundedLabel {
  private readonly admitted = new Set<string>();
  /** Observations that were relabelled `other` (a sign the cap is too low for the fleet). */
  overflowed = 0;

  constructor(readonly limit: number) {}

  value(raw: string): string {
    if (this.admitted.has(raw) || raw === OTHER_LABEL) return raw;
    if (this.admitted.size < this.limit) {
      this.admitted.add(raw);
      return raw;
    }
    this.overflowed++;
    return OTHER_LABEL;
  }

  /** Distinct values holding their own label. */
  get size(): number {
    return this.admitted.size;
  }
}
