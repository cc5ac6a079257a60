/**
 * The cumulative ACK point of one device session.
 *
 * ACK(seq) tells the board that every reading with seq ≤ seq is durably stored, and the board
 * frees them from its resend ring (docs/wire-protocol.md). Acknowledging the highest stored seq
 * would therefore free a lower reading that was lost on the way (bad CRC, BLE drop) — lost for
 * good. So the edge acknowledges only up to the highest seq below which it has accounted for
 * every reading the board can still hold:
 *
 * - after HELLO the board uses seq = hello.seq, hello.seq + 1, ... with no gaps (a full ring
 *   skips the sample, it does not consume a seq);
 * - the `hello.pending` ring entries from before the HELLO all have seq < hello.seq; they are
 *   accounted once that many distinct ones have arrived;
 * - a reading is accounted when it is stored (or was already stored) or NACKed with a final
 *   reason (the board drops it); a retryable NACK leaves a hole the board will fill by resending.
 */

/** Tracks what was accounted and the ACK point. */
export class AckTracker {
  private floor: number | undefined;
  private readonly above = new Set<number>();
  private readonly beforeHello = new Set<number>();

  /**
   * @param firstSeq hello.seq, the next seq the board will use
   * @param pendingBeforeHello hello.pending, ring entries older than firstSeq
   */
  constructor(
    private readonly firstSeq: number,
    private readonly pendingBeforeHello: number,
  ) {
    if (pendingBeforeHello === 0) this.floor = firstSeq - 1;
  }

  /** The seq to acknowledge (everything ≤ it is accounted), or undefined while nothing is. */
  get ackPoint(): number | undefined {
    return this.floor !== undefined && this.floor >= 0 ? this.floor : undefined;
  }

  /** Marks `seq` accounted; returns the new ACK point if it moved. */
  account(seq: number): number | undefined {
    const before = this.ackPoint;
    if (seq < this.firstSeq) {
      if (this.floor === undefined) {
        this.beforeHello.add(seq);
        if (this.beforeHello.size >= this.pendingBeforeHello) {
          this.floor = this.firstSeq - 1;
          this.beforeHello.clear();
        }
      }
    } else if (this.floor === undefined || seq > this.floor) {
      this.above.add(seq);
    }
    if (this.floor !== undefined) {
      while (this.above.has(this.floor + 1)) {
        this.above.delete(this.floor + 1);
        this.floor += 1;
      }
    }
    const after = this.ackPoint;
    return after !== undefined && after !== before ? after : undefined;
  }

  /** Readings accounted above the ACK point (waiting for a hole below them to fill). */
  get waiting(): number {
    return this.above.size;
  }
}
