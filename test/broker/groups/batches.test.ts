// Packing group records into batches that fit one write: in order, units whole, each batch as
// full as the limit allows, and few questions asked.
import t from 'tap'
import { packInBatches } from '../../../src/broker/groups/core/batches.js'

/** Units of the given sizes, each item its unit's index (a list's length stands for its bytes). */
const sized = (sizes: number[]) => sizes.map((n, i) => Array.from({ length: n }, () => i))

t.test('everything that fits goes in one batch, asked once', async (t) => {
  let asked = 0
  const packed = packInBatches(sized([1, 2, 3]), (items) => (asked++, items.length <= 10))
  t.same(packed, { batches: [[0, 1, 1, 2, 2, 2]], unfit: null })
  t.equal(asked, 1)
  t.same(packInBatches([], () => false), { batches: [], unfit: null }, 'nothing to write: no batch, no question')
})

t.test('too much for one batch: consecutive units, in order, never split, each batch as full as it may be', async (t) => {
  const packed = packInBatches(sized([4, 4, 1, 5, 2, 6]), (items) => items.length <= 9)
  t.same(packed.batches.map((b) => [...new Set(b)]), [[0, 1, 2], [3, 4], [5]])
  t.equal(packed.unfit, null)
})

t.test('a unit that does not fit alone stops the packing there', async (t) => {
  const packed = packInBatches(sized([2, 2, 7, 1]), (items) => items.length <= 5)
  t.same(packed, { batches: [[0, 0, 1, 1]], unfit: 2 }, 'the batches before it, and its index')
  t.same(packInBatches(sized([7]), (items) => items.length <= 5), { batches: [], unfit: 0 })
})

t.test('random sizes: the batches are the units in order, each fits, none could take the next unit, few questions', async (t) => {
  let seed = 7
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  for (let run = 0; run < 300; run++) {
    const limit = 1 + random(40)
    const sizes = Array.from({ length: random(200) }, () => 1 + random(limit))
    let asked = 0
    const fits = (items: readonly number[]) => (asked++, items.length <= limit)
    const packed = packInBatches(sized(sizes), fits)
    if (packed.unfit !== null) {
      t.fail(`run ${run}: every unit fits alone, yet ${packed.unfit} was unfit`)
      continue
    }
    const flat = packed.batches.flat()
    if (JSON.stringify(flat) !== JSON.stringify(sized(sizes).flat())) t.fail(`run ${run}: the batches are not the units in order`)
    for (const [i, b] of packed.batches.entries()) {
      if (b.length > limit) t.fail(`run ${run}: batch ${i} is over the limit`)
      const next = packed.batches[i + 1]
      if (next !== undefined && b[b.length - 1] === next[0]) t.fail(`run ${run}: a unit split across batches ${i} and ${i + 1}`)
      if (next !== undefined && b.length + sizes[next[0]] <= limit) t.fail(`run ${run}: batch ${i} had room for the next unit`)
    }
    const bound = packed.batches.length * (2 * Math.log2(sizes.length + 1) + 3)
    if (asked > bound) t.fail(`run ${run}: ${asked} questions for ${packed.batches.length} batches of ${sizes.length} units (bound ${bound})`)
  }
  t.pass('300 random packings checked')
})
