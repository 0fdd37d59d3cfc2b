// A latency histogram in the manner of HdrHistogram: fixed memory (log buckets, 64 linear
// sub-buckets per power of two, so a percentile is within ~1.6 % of the recorded value),
// exact count, sum, min and max. Values are microseconds; anything above ~35 minutes lands in
// the last bucket. Percentiles report the midpoint of the bucket holding that rank.

const LINEAR = 128 // values below this have a bucket each
const SUB_BITS = 6 // 64 sub-buckets per power of two above it
const SUB = 1 << SUB_BITS
const MAX_EXP = 31
const BUCKETS = LINEAR + (MAX_EXP - 7) * SUB

function indexOf(us: number): number {
  const v = Math.min(Math.max(0, Math.floor(us)), 2 ** MAX_EXP - 1)
  if (v < LINEAR) return v
  const e = 31 - Math.clz32(v)
  const shift = e - SUB_BITS
  return LINEAR + (e - 7) * SUB + ((v >>> shift) - SUB)
}

function midpointOf(index: number): number {
  if (index < LINEAR) return index
  const e = Math.floor((index - LINEAR) / SUB) + 7
  const sub = (index - LINEAR) % SUB
  const shift = e - SUB_BITS
  const low = (SUB + sub) * 2 ** shift
  return low + (2 ** shift - 1) / 2
}

export interface LatencySummary {
  count: number
  /** Milliseconds. */
  avgMs: number
  minMs: number
  maxMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS)
  count = 0
  private sumUs = 0
  private minUs = Infinity
  private maxUs = 0

  /** Records one latency in milliseconds (fractional). */
  recordMs(ms: number): void {
    const us = ms * 1000
    this.counts[indexOf(us)]++
    this.count++
    this.sumUs += us
    if (us < this.minUs) this.minUs = us
    if (us > this.maxUs) this.maxUs = us
  }

  /** The value (ms) at or below which `q` (0..1) of the recorded values lie. */
  percentileMs(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(Math.max(midpointOf(i), this.minUs), this.maxUs) / 1000
    }
    return this.maxUs / 1000
  }

  avgMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000
  }

  maxMs(): number {
    return this.maxUs / 1000
  }

  /** Adds another histogram's values to this one. */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i]
    this.count += other.count
    this.sumUs += other.sumUs
    this.minUs = Math.min(this.minUs, other.minUs)
    this.maxUs = Math.max(this.maxUs, other.maxUs)
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      avgMs: this.avgMs(),
      minMs: this.count === 0 ? 0 : this.minUs / 1000,
      maxMs: this.maxMs(),
      p50Ms: this.percentileMs(0.5),
      p95Ms: this.percentileMs(0.95),
      p99Ms: this.percentileMs(0.99),
      p999Ms: this.percentileMs(0.999),
    }
  }
}
