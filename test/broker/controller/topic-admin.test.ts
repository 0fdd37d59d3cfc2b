// Topic creation is all or nothing, on the real file system: a partition that fails to open, or
// a metadata write that fails, leaves no directory and no topic behind.
import t, { type Test } from 'tap'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MetadataStore } from '../../../src/broker/controller/metadata-store.js'
import { TopicAdmin } from '../../../src/broker/controller/topic-admin.js'
import { ReplicaManager } from '../../../src/broker/partition/replica-manager.js'
import { NodeFileLayer } from '../../../src/storage/index.js'

/** The real file layer, failing the operations a test names. */
class FailingFileLayer extends NodeFileLayer {
  failMkdir: (dir: string) => boolean = () => false
  failRename: (to: string) => boolean = () => false
  override async mkdirp(dir: string): Promise<void> {
    if (this.failMkdir(dir)) throw Object.assign(new Error(`ENOSPC: no space left on device, mkdir '${dir}'`), { code: 'ENOSPC' })
    return super.mkdirp(dir)
  }
  override rename(from: string, to: string): void {
    if (this.failRename(to)) throw Object.assign(new Error(`EIO: i/o error, rename '${from}'`), { code: 'EIO' })
    super.rename(from, to)
  }
}

const quietLog = { info() {}, warn() {}, error() {} }

function setUp(t: Test) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bitacora-admin-'))
  const fs = new FailingFileLayer()
  const replicas = new ReplicaManager(dataDir, 0, 50, 60_000, quietLog, fs)
  const store = MetadataStore.load(fs, dataDir, 0)
  const admin = new TopicAdmin(store, replicas)
  t.teardown(async () => {
    await replicas.closeAll()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return { dataDir, fs, admin, replicas }
}

const topic = (name: string, id: string, partitions: number) => ({ name, id, partitions, configs: {} })

t.test('a partition that fails to open: no directory, no topic, and the name is free', async (t) => {
  const { dataDir, fs, admin, replicas } = setUp(t)
  fs.failMkdir = (dir) => dir.endsWith('-2')
  await t.rejects(admin.create(topic('t', 'a'.repeat(32), 4)), /ENOSPC/)
  t.same(readdirSync(dataDir), [], 'the partitions opened before the failure were removed')
  t.equal(admin.image.topic('t'), undefined)
  t.equal(replicas.partition('t', 0), undefined)
  fs.failMkdir = () => false
  await admin.create(topic('t', 'b'.repeat(32), 4))
  t.equal(admin.image.topic('t')?.partitions, 4, 'the same name is created once the disk recovers')
  t.same(readdirSync(dataDir).filter((d) => d.startsWith('b')).length, 4)
})

t.test('a metadata write that fails: the new partitions are closed and removed', async (t) => {
  const { dataDir, fs, admin, replicas } = setUp(t)
  fs.failRename = (to) => to.endsWith('topics.json')
  await t.rejects(admin.create(topic('u', 'c'.repeat(32), 3)), /EIO/)
  t.same(readdirSync(dataDir).filter((d) => d.startsWith('c')), [])
  t.equal(admin.image.topic('u'), undefined)
  t.equal(replicas.partition('u', 0), undefined)
  t.same(MetadataStore.load(fs, dataDir, 0).image.topics, [], 'nothing was recorded')
})
