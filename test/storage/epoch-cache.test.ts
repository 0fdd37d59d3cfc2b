// The one leader-epoch cache, shared by the partition log and the Raft core.
import t from 'tap'
import { EpochCache, EPOCH_CACHE_ENTRIES_MAX } from '../../src/storage/index.js'
import { decodeEpochCheckpoint, encodeEpochCheckpoint } from '../../src/storage/epoch-checkpoint.js'
import { codec } from './helpers.js'

const crc = (b: Uint8Array) => codec.crc32c(b)

t.test('answers divergence queries (Kafka OffsetsForLeaderEpoch)', async (t) => {
  const c = new EpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 5 }, { epoch: 4, startOffset: 9 }])
  t.equal(c.latestEpoch(), 4)
  t.same(c.endOffsetFor(1, 12), { epoch: 1, endOffset: 5 })
  t.same(c.endOffsetFor(2, 12), { epoch: 1, endOffset: 5 }, 'an absent epoch answers with the largest below it')
  t.same(c.endOffsetFor(3, 12), { epoch: 3, endOffset: 9 })
  t.same(c.endOffsetFor(4, 12), { epoch: 4, endOffset: 12 }, 'the latest epoch ends at the log end')
  t.same(c.endOffsetFor(9, 12), { epoch: 4, endOffset: 12 })
  t.same(new EpochCache([{ epoch: 2, startOffset: 3 }]).endOffsetFor(1, 7), { epoch: 0, endOffset: 3 })
  t.same(new EpochCache([]).endOffsetFor(1, 0), { epoch: 0, endOffset: 0 })
  t.equal(new EpochCache().latestEpoch(), 0, 'an empty log that never had records: epoch 0')
  t.equal(c.startOf(3), 5)
  t.equal(c.startOf(2), null)
  t.equal(c.epochAt(4), 1)
  t.equal(c.epochAt(5), 3)
})

t.test('assign and truncate', async (t) => {
  const c = new EpochCache([])
  t.ok(c.assign(1, 0))
  t.notOk(c.assign(1, 4), 're-announcing the latest epoch is a no-op')
  t.ok(c.assign(2, 4))
  t.ok(c.assign(5, 4), 'epoch 2 wrote nothing before epoch 5 started: it leaves no entry')
  t.same(c.snapshot(), [{ epoch: 1, startOffset: 0 }, { epoch: 5, startOffset: 4 }])
  t.notOk(c.truncateFrom(5))
  t.ok(c.truncateFrom(4))
  t.same(c.snapshot(), [{ epoch: 1, startOffset: 0 }])
  t.throws(() => c.assign(0, 9), /assigned after/)
  c.assign(6, 7)
  t.throws(() => c.assign(5, 9), /assigned after/)
  t.throws(() => c.assign(7, 3), /must not decrease/)
})

t.test('a moved log start keeps the epoch below it', async (t) => {
  const c = new EpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 5 }, { epoch: 4, startOffset: 9 }])
  t.ok(c.advanceStart(7))
  t.same(c.snapshot(), [{ epoch: 3, startOffset: 7 }, { epoch: 4, startOffset: 9 }], 'the straddling epoch is clamped to the start')
  t.equal(c.logStartEpoch, 3)
  t.notOk(c.advanceStart(7))
  t.same(c.endOffsetFor(3, 12), { epoch: 3, endOffset: 9 })
  t.equal(c.endOffsetFor(2, 12), null, 'an epoch older than the log start: the asker must start over')
  c.advanceStart(9)
  t.same(c.snapshot(), [{ epoch: 4, startOffset: 9 }], 'an epoch starting exactly at the new start is kept whole')
  t.equal(c.logStartEpoch, 3, 'the record below offset 9 is of epoch 3')
  t.same(c.endOffsetFor(3, 12), { epoch: 3, endOffset: 9 }, 'epoch 3 ends where epoch 4 begins, though its records are gone')
  c.advanceStart(12)
  t.same(c.snapshot(), [{ epoch: 4, startOffset: 12 }], 'a start at the log end clamps the last epoch (the log drops it at its end)')
  c.reset(6)
  t.equal(c.latestEpoch(), 6, 'an empty log after a reset is as up to date as the record below its start')
  t.same(c.endOffsetFor(7, 20), { epoch: 6, endOffset: 20 })
  t.throws(() => c.assign(5, 20), /after the log start's epoch/)
})

t.test('a full cache refuses a new epoch instead of forgetting the oldest', async (t) => {
  const c = new EpochCache()
  for (let e = 1; e <= EPOCH_CACHE_ENTRIES_MAX; e++) c.assign(e, e * 10)
  t.throws(() => c.assign(EPOCH_CACHE_ENTRIES_MAX + 1, (EPOCH_CACHE_ENTRIES_MAX + 1) * 10), { code: 'LIMIT_EXCEEDED' })
  t.same(c.endOffsetFor(1, 1e9), { epoch: 1, endOffset: 20 }, 'the oldest epoch still answers divergence queries')
  t.equal(c.entries.length, EPOCH_CACHE_ENTRIES_MAX)
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
