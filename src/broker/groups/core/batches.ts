// Group records in batches that fit one write. A write is one batch of __consumer_offsets, and a
// batch has a byte limit (the topic's max.message.bytes, else --max-batch-bytes) so that a
// follower's fetch and a peer frame always carry it. Records come in units, each a step the log
// must hold whole or not at all (an OffsetCommit, one expiry of a group); consecutive units may
// share a batch, and a unit is never split. What "fits" means is the shell's (it encodes): this
// only asks, in order, as few times as a galloping search needs.

export interface Packed<T> {
  /** The batches, in order: the units before `unfit`, each batch as many consecutive units as fit. */
  readonly batches: readonly (readonly T[])[]
  /** The index of the first unit that does not fit even alone, or null: every unit is in `batches`. */
  readonly unfit: number | null
}

/**
 * Packs `units` into batches in order. `fits` must be monotone (a list fits, then so does each
 * of its prefixes), as bytes are. When every unit fits together (the common case) it asks once.
 */
export function packInBatches<T>(units: readonly (readonly T[])[], fits: (items: readonly T[]) => boolean): Packed<T> {
  const batches: (readonly T[])[] = []
  let guess = units.length
  for (let i = 0; i < units.length; ) {
    // The lists measured for this batch, by unit count: the one taken is one `fits` saw (the shell remembers its bytes).
    const measured = new Map<number, T[]>()
    const take = (k: number): T[] => {
      let items = measured.get(k)
      if (items === undefined) {
        items = units.slice(i, i + k).flat()
        measured.set(k, items)
      }
      return items
    }
    const n = largestFitting(units.length - i, guess, (k) => fits(take(k)))
    if (n === 0) return { batches, unfit: i }
    batches.push(take(n))
    i += n
    guess = n
  }
  return { batches, unfit: null }
}

/**
 * The largest k in 0..max for which `fitsK(k)` (true at 0, monotone), asking first at `guess`,
 * then doubling while it fits, then halving the gap: at most about 2 log2(max) + 2 questions.
 */
function largestFitting(max: number, guess: number, fitsK: (k: number) => boolean): number {
  let lo = 0 // fits: the empty list
  let hi = max + 1 // does not fit: past the end
  for (let probe = Math.min(max, Math.max(1, guess)); probe < hi; probe = Math.min(max, probe * 2)) {
    if (!fitsK(probe)) {
      hi = probe
      break
    }
    lo = probe
    if (probe === max) return max
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (fitsK(mid)) lo = mid
    else hi = mid
  }
  return lo
}
