// The snapshot store beside a state-machine log: a snapshot becomes the latest only whole and
// durable, a download is nothing until installed, and a power cut at any point leaves the
// previous snapshot or the new one.
import t from 'tap'
import { SnapshotStore, SimFileLayer, StorageError, type FileLayer } from '../../src/storage/index.js'
import { PENDING_SNAPSHOT_FILE, snapshotFileName } from '../../src/storage/snapshot-store.js'
import { codec } from './helpers.js'

const DIR = '/data/meta-0'
const crc = (b: Uint8Array) => codec.crc32c(b)
const enc = new TextEncoder()
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const turn = () => new Promise((resolve) => setImmediate(resolve))

async function disk(): Promise<SimFileLayer> {
  const fs = new SimFileLayer()
  await fs.mkdirp(DIR)
  return fs
}

function open(fs: FileLayer) {
  return SnapshotStore.open(fs, DIR, crc)
}

/** The bytes of `key`'s snapshot file as a leader would serve them, in chunks of `chunk` bytes. */
function chunks(store: SnapshotStore, chunk: number): Uint8Array[] {
  const s = store.latest!
  const out: Uint8Array[] = []
  for (let p = 0; p < s.sizeBytes; p += chunk) out.push(store.read(s, p, Math.min(chunk, s.sizeBytes - p)))
  return out
}

t.test('the latest snapshot is what opening loads; writing a newer one deletes the older', async (t) => {
  const fs = await disk()
  const { store, latest } = await open(fs)
  t.equal(latest, null, 'an empty directory has no snapshot')
  await store.write({ endOffset: 10, epoch: 1 }, [1, 2, 3], enc.encode('state at 10'))
  const b = await store.write({ endOffset: 25, epoch: 2 }, [1, 2, 3, 4], enc.encode('state at 25'))
  t.match(b, { endOffset: 25, epoch: 2, voters: [1, 2, 3, 4] })
  fs.powerCut()
  const reopened = await open(fs.session())
  t.match(reopened.latest?.snapshot, { endOffset: 25, epoch: 2, sizeBytes: b.sizeBytes, voters: [1, 2, 3, 4] })
  t.equal(text(reopened.latest!.state), 'state at 25')
  t.same(fs.list(DIR), [snapshotFileName({ endOffset: 25, epoch: 2 })], 'only the latest is left')
})

t.test('a power cut at any point of a write leaves the previous snapshot or the new one, whole', async (t) => {
  const seen = new Set<string>()
  for (let k = 0; k < 8; k++) {
    const fs = await disk()
    const { store } = await open(fs)
    await store.write({ endOffset: 10, epoch: 1 }, [1], enc.encode('old'))
    const writing = store.write({ endOffset: 20, epoch: 1 }, [1], enc.encode('new')).catch(() => undefined)
    for (let i = 0; i < k; i++) await turn()
    fs.powerCut({ random: Math.random, scramble: true })
    await writing
    const { latest } = await open(fs.session())
    const got = `${latest?.snapshot.endOffset}:${latest === null ? '' : text(latest.state)}`
    t.ok(got === '10:old' || got === '20:new', `cut after ${k} turns: ${got}`)
    t.equal(fs.list(DIR).length, 1, 'no leftover file')
    seen.add(got)
  }
  t.same([...seen].sort(), ['10:old', '20:new'], 'cuts landed both before and after the write took effect')
})

t.test('a download is not durable until installed, and restarts from position 0', async (t) => {
  const leader = (await open(await disk())).store
  await leader.write({ endOffset: 40, epoch: 3 }, [1, 2, 3], enc.encode('x'.repeat(100)))
  const parts = chunks(leader, 32)
  const fs = await disk()
  const { store } = await open(fs)
  await store.write({ endOffset: 10, epoch: 1 }, [1, 2, 3], enc.encode('old'))
  store.writePending(0, parts[0])
  store.writePending(32, parts[1])
  t.throws(() => store.writePending(96, parts[3]), { code: 'INVALID_ARGUMENT' }, 'a chunk past the end of the download is refused')
  await fs.syncDir(DIR) // its name may reach the disk (another file's creation in the directory, say)
  fs.powerCut({ random: Math.random })
  const afterCut = await open(fs.session())
  t.equal(afterCut.latest?.snapshot.endOffset, 10, 'the previous snapshot stands')
  t.notOk(fs.exists(`${DIR}/${PENDING_SNAPSHOT_FILE}`), 'the partial download is gone')
  t.throws(() => afterCut.store.writePending(32, parts[1]), { code: 'INVALID_ARGUMENT' }, 'it cannot be continued: it starts over at 0')
  parts.forEach((p, i) => afterCut.store.writePending(i * 32, p))
  const installed = await afterCut.store.installPending(leader.latest!)
  t.match(installed.snapshot, { endOffset: 40, epoch: 3, voters: [1, 2, 3] })
  t.equal(text(installed.state), 'x'.repeat(100))
  fs.powerCut()
  const final = await open(fs.session())
  t.equal(final.latest?.snapshot.endOffset, 40, 'installed: durable and the latest')
  t.same(fs.list(DIR), [snapshotFileName({ endOffset: 40, epoch: 3 })])
})

t.test('an install checks the download whole against what the leader announced', async (t) => {
  const leader = (await open(await disk())).store
  const announced = await leader.write({ endOffset: 40, epoch: 3 }, [1], enc.encode('y'.repeat(64)))
  const bytes = leader.read(announced, 0, announced.sizeBytes)
  const cases: Array<[string, Uint8Array, object]> = [
    ['a torn download', bytes.subarray(0, bytes.length - 5), { ...announced }],
    ['a flipped byte', Uint8Array.from(bytes, (b, i) => (i === 30 ? b ^ 1 : b)), { ...announced }],
    ['another snapshot than announced', bytes, { ...announced, endOffset: 41 }],
  ]
  for (const [what, download, expected] of cases) {
    const fs = await disk()
    const { store } = await open(fs)
    store.writePending(0, download)
    await t.rejects(store.installPending(expected as typeof announced), { code: 'CORRUPT_FILE' }, what)
    t.equal(store.latest, null, `${what}: nothing was installed`)
  }
  t.rejects((await open(await disk())).store.installPending(announced), { code: 'INVALID_ARGUMENT' }, 'nothing downloaded')
})

t.test('a power cut at any point of an install leaves the previous snapshot or the new one, whole', async (t) => {
  const leader = (await open(await disk())).store
  const announced = await leader.write({ endOffset: 40, epoch: 3 }, [1], enc.encode('new state'))
  const seen = new Set<number>()
  for (let k = 0; k < 8; k++) {
    const fs = await disk()
    const { store } = await open(fs)
    await store.write({ endOffset: 10, epoch: 1 }, [1], enc.encode('old state'))
    store.writePending(0, leader.read(announced, 0, announced.sizeBytes))
    const installing = store.installPending(announced).catch(() => undefined)
    for (let i = 0; i < k; i++) await turn()
    fs.powerCut({ random: Math.random, scramble: true })
    await installing
    const { latest } = await open(fs.session())
    const end = latest!.snapshot.endOffset
    t.equal(text(latest!.state), end === 10 ? 'old state' : 'new state', `cut after ${k} turns: snapshot ${end}, whole`)
    seen.add(end)
  }
  t.same([...seen].sort((a, b) => a - b), [10, 40], 'cuts landed both before and after the install took effect')
})

t.test('a leader serves only its latest snapshot, within its bytes', async (t) => {
  const { store } = await open(await disk())
  t.throws(() => store.read({ endOffset: 5, epoch: 1 }, 0, 1), { code: 'INVALID_ARGUMENT' }, 'no snapshot yet')
  const s = await store.write({ endOffset: 5, epoch: 1 }, [1], enc.encode('abc'))
  t.throws(() => store.read({ endOffset: 5, epoch: 2 }, 0, 1), { code: 'INVALID_ARGUMENT' }, 'another epoch')
  t.throws(() => store.read(s, s.sizeBytes - 1, 2), { code: 'INVALID_ARGUMENT' }, 'past its end')
  t.equal(store.read(s, 0, s.sizeBytes).length, s.sizeBytes)
})

t.test('a damaged latest snapshot is reported, never believed', async (t) => {
  const fs = await disk()
  const { store } = await open(fs)
  const s = await store.write({ endOffset: 7, epoch: 1 }, [1], enc.encode('state'))
  fs.damage(`${DIR}/${snapshotFileName(s)}`, (b) => Uint8Array.from(b, (x, i) => (i === b.length - 8 ? x ^ 0x10 : x)))
  const err = await open(fs).then(() => null, (e: unknown) => e)
  t.ok(err instanceof StorageError && err.code === 'CORRUPT_FILE', 'CORRUPT_FILE')
  t.match((err as Error).message, /snapshot 00000000000000000007-0000000001\.snapshot is damaged: checksum mismatch/)
})

t.test('a snapshot over the size limit is refused before anything is written', async (t) => {
  const fs = await disk()
  const { store } = await open(fs)
  t.throws(() => store.writePending(256 * 1024 * 1024, new Uint8Array(1)), { code: 'LIMIT_EXCEEDED' })
  t.same(fs.list(DIR), [])
})
