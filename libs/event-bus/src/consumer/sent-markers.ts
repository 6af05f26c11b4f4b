/**
 * Orders dedupe reads against marker writes on one connection, so a marker read for a batch
 * can be trusted later. A marker acknowledged but not yet sent counts as handled; each read and each sent marker takes the next tick of one counter. A
 * read taken at tick R is stale for a marker sent at a later tick; markers fall out of the log
 * after `capacity` newer ones, and a read older than what fell out is not trusted at all.
 */
export class SentMarkers {
  private tick = 0;
  private forgottenUpTo = 0;
  private readonly sent = new Map<string, number>();
  /** Markers acknowledged in memory and not yet sent: handled already, whatever a read says. */
  private readonly pending = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Call just before issuing a read of markers; keep the tick with what it returns. */
  reading(): number {
    return ++this.tick;
  }

  /** Call when a delivery is acknowledged with its marker (before the write is sent). */
  acking(marker: string): void {
    this.pending.add(marker);
  }

  /** Call just before sending markers. */
  sending(markers: string[]): void {
    for (const marker of markers) {
      this.pending.delete(marker);
      this.sent.delete(marker);
      this.sent.set(marker, ++this.tick);
    }
    while (this.sent.size > this.capacity) {
      const [oldest, at] = this.sent.entries().next().value as [string, number];
      this.sent.delete(oldest);
      this.forgottenUpTo = at;
    }
  }

  /**
   * What a read taken at `readTick` means now: true (handled), false (not handled), or
   * undefined (too old to trust: read again).
   */
  verdict(marker: string, readTick: number, readValue: boolean): boolean | undefined {
    if (readValue || this.pending.has(marker)) return true;
    if (readTick <= this.forgottenUpTo) return undefined;
    const sentAt = this.sent.get(marker);
    return sentAt !== undefined && sentAt > readTick;
  }
}
