// The power-cut simulator itself: what it keeps must be what a disk keeps.
import t from 'tap'
import { SimFileLayer } from '../../src/storage/index.js'

/** A file layer whose fsyncs finish when the test says, in any order. */
function manualDisk() {
  const pending: Array<() => void> = []
  const fs = new SimFileLayer({ syncDelay: () => new Promise<void>((resolve) => pending.push(resolve)) })
  return { fs, pending }
}

const text = (fs: SimFileLayer, path: string) => {
  const h = fs.open(path, { create: false })
  const out = new Uint8Array(h.size())
  h.read(out, 0)
  return new TextDecoder().decode(out)
}

t.test('out-of-order fsyncs of a file and its directory keep the newest durable state', async (t) => {
  const { fs, pending } = manualDisk()
  await fs.mkdirp('/d')
  const h = fs.open('/d/f', { create: true })
  const dirSynced = fs.syncDir('/d')
  pending.shift()!()
  await dirSynced
  h.write(new TextEncoder().encode('aaaa'), 0)
  const first = h.sync()
  h.write(new TextEncoder().encode('bbbb'), 4)
  const second = h.sync()
  const [finishFirst, finishSecond] = pending.splice(0)
  finishSecond()
  await second
  finishFirst()
  await first
  fs.powerCut()
  t.equal(text(fs, '/d/f'), 'aaaabbbb', 'what the later fsync covered survives')

  // A directory: a rename synced by a later fsync survives an earlier one completing after it.
  const g = fs.open('/d/g.tmp', { create: true })
  g.close()
  const early = fs.syncDir('/d') // sees g.tmp
  fs.rename('/d/g.tmp', '/d/g')
  const late = fs.syncDir('/d') // sees g
  const [finishEarly, finishLate] = pending.splice(0)
  finishLate()
  await late
  finishEarly()
  await early
  fs.powerCut()
  t.ok(fs.exists('/d/g') && !fs.exists('/d/g.tmp'), 'the renamed name survives, not the temporary one')
})

t.test('a directory fsync covers the entries it saw when it began, not ones made while it ran', async (t) => {
  const { fs, pending } = manualDisk()
  await fs.mkdirp('/d')
  const sync = fs.syncDir('/d')
  fs.open('/d/late', { create: true }).close()
  pending.shift()!()
  await sync
  fs.powerCut()
  t.notOk(fs.exists('/d/late'), 'created after the fsync began: not durable')
})

t.test('torn bytes that survived a power cut are made durable by the next fsync', async (t) => {
  const { fs, pending } = manualDisk()
  await fs.mkdirp('/d')
  const h = fs.open('/d/f', { create: true })
  const named = fs.syncDir('/d')
  pending.shift()!()
  await named
  h.write(new TextEncoder().encode('aaaabbbb'), 0)
  fs.powerCut({ random: () => 0.5 }) // half of the unsynced tail survives: "aaaa"
  const again = fs.open('/d/f', { create: false })
  t.equal(text(fs, '/d/f'), 'aaaa')
  const synced = again.sync()
  pending.shift()!()
  await synced
  fs.powerCut()
  t.equal(text(fs, '/d/f'), 'aaaa', 'still there after a second cut')
})
