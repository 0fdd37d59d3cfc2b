// A small seeded PRNG (sfc32) so every random choice — election timeouts in the core,
// faults in the simulator — replays exactly from a seed.
import { assert } from '../raft/assert.js'

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed) && seed >= 0, 'seed must be a non-negative safe integer')
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = seed >>> 0
    this.d = Math.floor(seed / 0x100000000) >>> 0
    for (let i = 0; i < 16; i++) this.next() // mix the seed in
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform integer in [0, bound). */
  int(bound: number): number {
    assert(Number.isSafeInteger(bound) && bound >= 1 && bound <= 0x100000000, 'bad bound')
    return Math.floor((this.next() / 0x100000000) * bound)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p
  }

  /** A uniform float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (this.next() / 0x100000000) * (hi - lo)
  }

  /** An independent generator derived from this one (e.g. one per node). */
  fork(): Prng {
    return new Prng(this.next() * 0x200000 + (this.next() >>> 11))
  }
}
