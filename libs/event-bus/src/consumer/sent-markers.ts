/**
 * Orders dedupe reads against marker writes on one connection, so a marker read for a batch
 * can be trusted later. A marker acknowledged but not yet sent counts as handled; a read taken at
 * tick R is stale for a marker sent at a later tick. Sent markers are remembered in two
 * generations of `capacity / 2` (O(1), no scans); a read older than the generation that was
 * dropped is not trusted at all.
 */
export class SentMarkers {
  private tick = 0;
  private forgottenUpTo = 0;
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private previousMax = 0;
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
      this.current.set(marker, ++this.tick);
    }
    if (this.current.size >= this.capacity / 2) {
      this.forgottenUpTo = this.previousMax;
      this.previous = this.current;
      this.previousMax = this.tick;
      this.current = new Map();
    }
  }

  /**
   * What a read taken at `readTick` means now: true (handled), false (not handled), or
   * undefined (too old to trust: read again).
   */
  verdict(marker: string, readTick: number, readValue: boolean): boolean | undefined {
    if (readValue || this.pending.has(marker)) return true;
    if (readTick <= this.forgottenUpTo) return undefined;
    const sentAt = this.current.get(marker) ?? this.previous.get(marker);
    return sentAt !== undefined && sentAt > readTick;
  }
}
