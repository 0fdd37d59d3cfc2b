// The broker's shared quorum-state store on the power-cut file layer: one group commit for every
// partition writing in the same turn, nothing acknowledged ever forgotten after a power cut,
// a failed write leaves the old states, and a damaged file is refused.
import t from 'tap'
import { loadCodec } from '../../../src/codec/index.js'
import { QuorumStateStore, QUORUM_STATES_FILE } from '../../../src/broker/partition/quorum-state-store.js'
import type { QuorumState } from '../../../src/raft/types.js'
import { SimFileLayer, StorageError } from '../../../src/storage/index.js'

const codec = await loadCodec()
const crc = (b: Uint8Array) => codec.crc32c(b)
const DIR = '/data'
const PARTITIONS = 200

async function disk(partitions = PARTITIONS): Promise<SimFileLayer> {
  const fs = new SimFileLayer()
  for (let p = 0; p < partitions; p++) await fs.mkdirp(`${DIR}/t-${p}`)
  return fs
}

t.test('every partition writing in one turn shares one atomic write: two fsyncs, not two per partition', async (t) => {
  const fs = await disk()
  const store = QuorumStateStore.open(fs, DIR, crc)
  const before = fs.fsyncCount
  await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => store.save(`t-${p}`, { epoch: 3, votedFor: p % 3, leaderId: null })))
  t.equal(fs.fsyncCount - before, 2, 'the file and its directory, once')
  t.equal(store.batches, 1)
  fs.powerCut()
  const reopened = QuorumStateStore.open(fs, DIR, crc)
  for (let p = 0; p < PARTITIONS; p++) t.same(reopened.get(`t-${p}`), { epoch: 3, votedFor: p % 3, leaderId: null }, `t-${p} is durable`)
})

t.test('writes asked for while one is on the disk go together in the next', async (t) => {
  const fs = await disk()
  const store = QuorumStateStore.open(fs, DIR, crc)
  const first = store.save('t-0', { epoch: 1, votedFor: 1, leaderId: null })
  await new Promise((resolve) => setImmediate(resolve)) // the first batch is on the disk now
  const rest = Array.from({ length: 50 }, (_, i) => store.save(`t-${i + 1}`, { epoch: 1, votedFor: 2, leaderId: 2 }))
  await Promise.all([first, ...rest])
  t.equal(store.batches, 2)
})

t.test('a power cut at any moment forgets no state whose write resolved, and mixes no two writes', async (t) => {
  for (let cutAfterTurns = 0; cutAfterTurns < 12; cutAfterTurns++) {
    const fs = await disk(20)
    const store = QuorumStateStore.open(fs, DIR, crc)
    /** The highest epoch each partition's resolved writes reached. */
    const acknowledged = new Map<string, number>()
    let running = true
    const writers = Array.from({ length: 20 }, async (_, p) => {
      for (let epoch = 1; running; epoch++) {
        const state: QuorumState = { epoch, votedFor: p % 3, leaderId: epoch % 2 === 0 ? p % 3 : null }
        try {
          await store.save(`t-${p}`, state)
        } catch {
          return // the power cut
        }
        if (running) acknowledged.set(`t-${p}`, epoch)
      }
    })
    for (let i = 0; i < cutAfterTurns; i++) await new Promise((resolve) => setImmediate(resolve))
    running = false
    fs.powerCut({ random: Math.random, scramble: true })
    await Promise.all(writers)
    const reopened = QuorumStateStore.open(fs, DIR, crc)
    for (const [key, epoch] of acknowledged) {
      const got = reopened.get(key)
      t.ok(got !== undefined && got.epoch >= epoch, `cut after ${cutAfterTurns} turns: ${key} acknowledged epoch ${epoch}, found ${got?.epoch}`)
    }
  }
})

t.test('a failed write fails its partitions\' saves and keeps the old states; the next write succeeds', async (t) => {
  const fs = await disk(3)
  const store = QuorumStateStore.open(fs, DIR, crc)
  await store.save('t-0', { epoch: 1, votedFor: 1, leaderId: 1 })
  fs.failSync = () => true
  await t.rejects(Promise.all([store.save('t-0', { epoch: 2, votedFor: 2, leaderId: null }), store.save('t-1', { epoch: 2, votedFor: 2, leaderId: null })]), /EIO/)
  t.same(store.get('t-0'), { epoch: 1, votedFor: 1, leaderId: 1 }, 'what a replica reopens from is the last durable state')
  t.equal(store.get('t-1'), undefined)
  fs.failSync = null
  await store.save('t-1', { epoch: 3, votedFor: null, leaderId: 3 })
  fs.powerCut()
  const reopened = QuorumStateStore.open(fs, DIR, crc)
  t.same(reopened.get('t-0'), { epoch: 1, votedFor: 1, leaderId: 1 })
  t.same(reopened.get('t-1'), { epoch: 3, votedFor: null, leaderId: 3 })
})

t.test('opening drops the entries of partition directories that are gone', async (t) => {
  const fs = await disk(2)
  const store = QuorumStateStore.open(fs, DIR, crc)
  // t-5's directory was never made here: as one deleted after its state was written.
  await Promise.all([store.save('t-0', { epoch: 1, votedFor: 1, leaderId: 1 }), store.save('t-5', { epoch: 1, votedFor: 1, leaderId: 1 })])
  t.same(store.get('t-5'), { epoch: 1, votedFor: 1, leaderId: 1 })
  const reopened = QuorumStateStore.open(fs, DIR, crc)
  t.same(reopened.get('t-0'), { epoch: 1, votedFor: 1, leaderId: 1 })
  t.equal(reopened.get('t-5'), undefined)
})

t.test('a damaged file is refused with CORRUPT_FILE, not half-believed', async (t) => {
  const fs = await disk(1)
  const store = QuorumStateStore.open(fs, DIR, crc)
  await store.save('t-0', { epoch: 17, votedFor: 1, leaderId: 1 })
  fs.damage(`${DIR}/${QUORUM_STATES_FILE}`, (b) => {
    const text = Buffer.from(b).toString().replace('17', '71')
    return new TextEncoder().encode(text)
  })
  t.throws(() => QuorumStateStore.open(fs, DIR, crc), new StorageError('CORRUPT_FILE', `${DIR}/${QUORUM_STATES_FILE} is damaged: checksum mismatch`))
})
