// The broker's fence reaches its data partitions through the replica manager (issue 17): fenced,
// every replica resigns and none campaigns; replicas opened while fenced open fenced; unfenced,
// the lone voters lead again. Real replicas on real files, ticked by the manager's own loop.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MetadataImage } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'
import { ReplicaManager } from '../../../src/broker/partition/replica-manager.js'
import { NodeFileLayer } from '../../../src/storage/index.js'
import { quietLog, waitFor } from '../controller/wait.js'

const SELF = 1
const TICK_MS = 10

function topic(image: MetadataImage, name: string, id: string, partitions: number): MetadataImage {
  return image.apply(newTopicRecords({ name, id, configs: {} }, Array.from({ length: partitions }, () => [SELF])))
}

async function manager(t: Test): Promise<ReplicaManager> {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-fence-'))
  const m = new ReplicaManager(dir, SELF, TICK_MS, 60_000, quietLog)
  t.teardown(async () => {
    await m.closeAll()
    rmSync(dir, { recursive: true, force: true })
  })
  await m.prepare()
  m.start()
  return m
}

/** Ticks of the manager's loop: long enough that an unfenced lone voter would have led. */
const someTicks = () => new Promise((resolve) => setTimeout(resolve, 20 * TICK_MS))

t.test('fenced before its partitions open: none leads until unfenced; fenced again, every leader resigns', async (t) => {
  const m = await manager(t)
  m.setFenced(true)
  const image = topic(MetadataImage.EMPTY, 'orders', 'a1'.repeat(16), 3)
  t.same(await m.reconcile({ image, changes: null }), [])
  const all = [0, 1, 2].map((p) => m.partition('orders', p)!)
  await someTicks()
  t.same(all.map((r) => r.isLeader), [false, false, false], 'opened fenced: no lone voter elects itself')
  t.ok(all.every((r) => r.status().fenced))

  m.setFenced(false)
  await waitFor(() => all.every((r) => r.leaderReady), 'every partition led once unfenced')

  m.setFenced(true)
  await waitFor(() => all.every((r) => !r.isLeader), 'every leader resigned')
  await someTicks()
  t.same(all.map((r) => r.isLeader), [false, false, false], 'and none campaigns while fenced')
})

t.test('a partition opened while the broker is fenced opens fenced; one opened after unfencing leads', async (t) => {
  const m = await manager(t)
  let image = topic(MetadataImage.EMPTY, 'first', 'b1'.repeat(16), 1)
  await m.reconcile({ image, changes: null })
  const first = m.partition('first', 0)!
  await waitFor(() => first.leaderReady, 'an unfenced broker\'s partition leads')

  m.setFenced(true)
  image = topic(image, 'second', 'b2'.repeat(16), 1)
  await m.reconcile({ image, changes: null })
  const second = m.partition('second', 0)!
  await someTicks()
  t.notOk(second.isLeader, 'opened while fenced: it does not lead')
  t.notOk(first.isLeader, 'and the first resigned')

  m.setFenced(false)
  image = topic(image, 'third', 'b3'.repeat(16), 1)
  await m.reconcile({ image, changes: null })
  const third = m.partition('third', 0)!
  await waitFor(() => [first, second, third].every((r) => r.leaderReady), 'all three lead once unfenced')
})

t.test('switched while a partition is opening: it ends up as the switch stands', async (t) => {
  const m = await manager(t)
  m.setFenced(true)
  const reconciled = m.reconcile({ image: topic(MetadataImage.EMPTY, 'racing', 'c1'.repeat(16), 8), changes: null })
  m.setFenced(false) // while the eight open, one after the other
  await reconciled
  const all = Array.from({ length: 8 }, (_, p) => m.partition('racing', p)!)
  await waitFor(() => all.every((r) => r.leaderReady), 'every partition leads')
  t.ok(all.every((r) => !r.status().fenced))
})

t.test('unfenced once some of a topic\'s partitions opened and others are still opening: every one ends up unfenced', async (t) => {
  // The switch comes as partition 40's directory is made: partitions opened before it were not yet
  // among the replicas the manager fences and unfences (issue 18: 1,000 partitions after a
  // restart, a quarter stayed fenced, leaderless, for good).
  const PARTITIONS = 48
  let m: ReplicaManager | null = null
  class UnfenceAt40 extends NodeFileLayer {
    override async mkdirp(dir: string): Promise<void> {
      await super.mkdirp(dir)
      if (dir.endsWith('-40')) m!.setFenced(false)
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-fence-'))
  m = new ReplicaManager(dir, SELF, TICK_MS, 60_000, quietLog, new UnfenceAt40())
  t.teardown(async () => {
    await m!.closeAll()
    rmSync(dir, { recursive: true, force: true })
  })
  await m.prepare()
  m.start()
  m.setFenced(true)
  await m.reconcile({ image: topic(MetadataImage.EMPTY, 'late', 'd1'.repeat(16), PARTITIONS), changes: null })
  const all = Array.from({ length: PARTITIONS }, (_, p) => m!.partition('late', p)!)
  await waitFor(() => all.every((r) => r.leaderReady), 'every partition leads')
  t.ok(all.every((r) => !r.status().fenced))
})
