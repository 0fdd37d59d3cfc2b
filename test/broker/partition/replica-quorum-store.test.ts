// A data partition's quorum state when its broker has a shared store (quorum-state-store.ts):
// its own quorum-state.json (an older release wrote it) is read until the store has an entry,
// then the entry wins; a power cut right after a vote's write resolved keeps the vote.
import t from 'tap'
import { PartitionReplica, type ReplicaOptions } from '../../../src/broker/partition/replica.js'
import { QuorumStateStore } from '../../../src/broker/partition/quorum-state-store.js'
import { QUORUM_STATE_FILE } from '../../../src/broker/partition/replica-disk.js'
import { resolveConfig, SimFileLayer, writeFileAtomic } from '../../../src/storage/index.js'
import { codec } from './cluster.js'

const crc = (b: Uint8Array) => codec.crc32c(b)
const DIR = '/data/p-0'

function options(fs: SimFileLayer, store: QuorumStateStore): ReplicaOptions {
  return {
    dir: DIR, nodeId: 1, voters: [1, 2, 3], logConfig: resolveConfig({ segmentBytes: 1024 }), electionTimeoutTicks: 10,
    random: () => 0, fs: fs.session(), quorumStates: store,
  }
}

t.test('the partition\'s own file until the store has an entry; then the entry, and the file is no longer read', async (t) => {
  const fs = new SimFileLayer()
  await fs.mkdirp(DIR)
  await writeFileAtomic(fs, `${DIR}/${QUORUM_STATE_FILE}`, new TextEncoder().encode(JSON.stringify({ epoch: 5, votedFor: 2, leaderId: 2 })))
  let store = QuorumStateStore.open(fs, '/data', crc)
  let r = await PartitionReplica.open(options(fs, store))
  t.same([r.leaderEpoch, r.leaderId], [5, 2], 'what the older release left')
  await r.close()

  await store.save('p-0', { epoch: 7, votedFor: 3, leaderId: 3 })
  fs.powerCut()
  store = QuorumStateStore.open(fs, '/data', crc)
  r = await PartitionReplica.open(options(fs, store))
  t.same([r.leaderEpoch, r.leaderId], [7, 3], 'the store\'s entry, durable once its write resolved')
  t.same(r.status().votedFor, 3)
  await r.close()
})

t.test('the data directory named another way (`--data-dir ./data`, a trailing slash) is still the store\'s', async (t) => {
  const fs = new SimFileLayer()
  await fs.mkdirp(DIR)
  const store = QuorumStateStore.open(fs, '/data/./', crc)
  const r = await PartitionReplica.open(options(fs, store))
  t.equal(r.leaderEpoch, 0, 'opened: a new partition')
  await r.close()
})
