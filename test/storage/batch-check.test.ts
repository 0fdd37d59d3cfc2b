// checkStored, the check of every follower append and of recovery: one CRC pass per uncompressed
// batch (inside the WASM walk), and every kind of damage still named.
import t from 'tap'
import { loadCodec, type Codec } from '../../src/codec/index.js'
import { checkStored } from '../../src/storage/batch-check.js'

const codec = await loadCodec()

function batch(): Uint8Array {
  return codec.encodeBatch([{ key: null, value: new TextEncoder().encode('a value of some bytes'), headers: [] }, { key: null, value: null, headers: [] }], { baseOffset: 7 })
}

/** The real codec, counting the CRCs computed in JavaScript-visible calls. */
function counting(): { codec: Codec; crcs: () => number } {
  let crcs = 0
  const counted = Object.create(codec) as Codec
  counted.batchCrcMatches = (...a: Parameters<Codec['batchCrcMatches']>) => (crcs++, codec.batchCrcMatches(...a))
  counted.crc32c = (...a: Parameters<Codec['crc32c']>) => (crcs++, codec.crc32c(...a))
  return { codec: counted, crcs: () => crcs }
}

t.test('an uncompressed batch is accepted with no CRC pass besides the WASM walk', async (t) => {
  const c = counting()
  const h = checkStored(c.codec, batch())
  t.equal(typeof h === 'string' ? h : h.baseOffset, 7)
  t.equal(c.crcs(), 0, 'no separate CRC computation')
})

t.test('damage is still found and named: a flipped byte in the records, the CRC field, a truncation', async (t) => {
  const good = batch()
  const flipped = good.slice()
  flipped[flipped.length - 3] ^= 0x40
  t.equal(checkStored(codec, flipped), 'CRC mismatch')
  const badCrc = good.slice()
  badCrc[17] ^= 0x01 // inside the CRC field (bytes 17..20)
  t.equal(checkStored(codec, badCrc), 'CRC mismatch')
  t.match(checkStored(codec, good.subarray(0, good.length - 1)), /^truncated: /)
})
