import t from 'tap'
import { EpochCache } from '../../src/storage/index.js'
import { decodeEpochCheckpoint, encodeEpochCheckpoint } from '../../src/storage/epoch-checkpoint.js'
import { codec } from './helpers.js'

const crc = (b: Uint8Array) => codec.crc32c(b)

t.test('assign, endOffsetFor and epochAt follow Kafka semantics', async (t) => {
  const c = new EpochCache()
  t.equal(c.latestEpoch(), -1)
  t.same(c.endOffsetFor(3, 0), { epoch: -1, endOffset: -1 })
  t.ok(c.assign(1, 0))
  t.notOk(c.assign(1, 5), 'same epoch: no change')
  t.ok(c.assign(3, 10))
  t.ok(c.assign(4, 10), 'epoch 3 held no records: replaced')
  t.same(c.entries, [{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 10 }])
  t.same(c.endOffsetFor(1, 20), { epoch: 1, endOffset: 10 })
  t.same(c.endOffsetFor(2, 20), { epoch: 1, endOffset: 10 }, 'unknown epoch: the largest below it')
  t.same(c.endOffsetFor(4, 20), { epoch: 4, endOffset: 20 })
  t.same(c.endOffsetFor(9, 20), { epoch: 4, endOffset: 20 })
  t.equal(c.epochAt(9), 1)
  t.equal(c.epochAt(10), 4)
  t.throws(() => c.assign(2, 30), /older/)
})

t.test('truncation from the end and from the start', async (t) => {
  const c = new EpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 5, startOffset: 20 }])
  t.ok(c.truncateFromStart(12))
  t.same(c.entries, [{ epoch: 2, startOffset: 12 }, { epoch: 5, startOffset: 20 }], 'the straddling epoch is clamped')
  t.notOk(c.truncateFromStart(12))
  t.ok(c.truncateFromStart(20))
  t.same(c.entries, [{ epoch: 5, startOffset: 20 }])
  const d = new EpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }])
  t.notOk(d.truncateFromEnd(11))
  t.ok(d.truncateFromEnd(10))
  t.same(d.entries, [{ epoch: 1, startOffset: 0 }])
})

t.test('checkpoint round-trips and rejects damage', async (t) => {
  const entries = [{ epoch: 1, startOffset: 0 }, { epoch: 7, startOffset: 123456789012 }]
  const bytes = encodeEpochCheckpoint(entries, crc)
  t.match(new TextDecoder().decode(bytes), /^bitacora-leader-epochs 1\n2\n1 0\n7 123456789012\ncrc32c [0-9a-f]{8}\n$/)
  t.same(decodeEpochCheckpoint(bytes, crc), entries)
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice()
    bad[i] ^= 0x04
    t.throws(() => decodeEpochCheckpoint(bad, crc), { code: 'CORRUPT_FILE' }, `flip at ${i}`)
  }
  t.throws(() => decodeEpochCheckpoint(bytes.subarray(0, bytes.length - 3), crc), { code: 'CORRUPT_FILE' }, 'torn')
})
