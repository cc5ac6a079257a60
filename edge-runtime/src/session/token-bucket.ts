/**
 * The rate check on new readings: a token bucket refilled at the profile's rate, holding a burst
 * so a board emptying its resend ring after an outage is not refused. Resends of stored readings
 * take no token (they are duplicates, not new samples).
 */
export class TokenBucket {
  private tokens: number;

  /**
   * @param perMs refill rate (tokens per ms)
   * @param burst bucket size
   * @param now current time (ms)
   */
  constructor(
    private readonly perMs: number,
    private readonly burst: number,
    private last: number,
  ) {
    if (!(perMs > 0) || !Number.isFinite(perMs)) throw new RangeError(`token bucket rate must be > 0, got ${perMs}`);
    if (!(burst >= 1)) throw new RangeError(`token bucket burst must be >= 1, got ${burst}`);
    this.tokens = burst;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + Math.max(0, now - this.last) * this.perMs);
    this.last = Math.max(this.last, now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
