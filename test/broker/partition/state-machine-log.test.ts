// A state-machine log (the metadata log's shape): real PartitionReplicas on simulated disks,
// each driving a state machine that lists the committed values it applied. Its state must be
// the committed prefix: nothing above the high watermark, nothing twice, nothing skipped —
// across snapshots, installs, restarts and power cuts.
import t from 'tap'
import type { CommittedBatch, StateMachine } from '../../../src/broker/partition/state-machine.js'
import type { PartitionReplica, ReplicaObserver } from '../../../src/broker/partition/replica.js'
import type { Message, NodeId, SnapshotInfo } from '../../../src/raft/types.js'
import { PENDING_SNAPSHOT_FILE } from '../../../src/storage/snapshot-store.js'
import { Cluster, turn, type ClusterOptions } from './cluster.js'

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** Its state: every committed value applied, in offset order, as `offset=value`. */
class ListMachine implements StateMachine {
  entries: string[] = []
  /** Offsets below this are in the state. */
  end = 0
  /** What the shell did to it, for the assertions. */
  readonly calls: string[] = []

  apply(batch: CommittedBatch): void {
    if (batch.baseOffset < this.end) throw new Error(`applied twice: batch at ${batch.baseOffset}, state holds up to ${this.end}`)
    this.calls.push(`apply ${batch.baseOffset}`)
    for (const r of batch.records) this.entries.push(`${r.offset}=${decoder.decode(r.value!)}`)
    this.end = batch.nextOffset
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.entries))
  }

  restore(state: Uint8Array | null, endOffset: number): void {
    this.calls.push(`restore ${endOffset}`)
    this.entries = state === null ? [] : (JSON.parse(decoder.decode(state)) as string[])
    this.end = endOffset
  }
}

interface Harness {
  c: Cluster
  /** Each node's state machine of its current process. */
  machines: Map<NodeId, ListMachine>
  installs: Map<NodeId, SnapshotInfo[]>
}

async function start(t: { teardown(fn: () => unknown): void }, options: Omit<ClusterOptions, 'stateMachine'>, everyRecords = 5): Promise<Harness> {
  const machines = new Map<NodeId, ListMachine>()
  const installs = new Map<NodeId, SnapshotInfo[]>()
  const observer = (id: NodeId): ReplicaObserver => ({
    snapshotInstalled: (s) => installs.set(id, [...(installs.get(id) ?? []), s]),
  })
  const stateMachine = (id: NodeId) => {
    const machine = new ListMachine()
    machines.set(id, machine)
    return { machine, snapshotPolicy: { everyRecords } }
  }
  const c = await Cluster.start({ ...options, stateMachine, observer })
  t.teardown(() => c.stopAll())
  return { c, machines, installs }
}

/** Produces `n` single-record batches with values v<from>.. and waits until they commit. */
async function produce(c: Cluster, leader: PartitionReplica, n: number, from = 0): Promise<number> {
  let last = 0
  for (let i = 0; i < n; i++) last = (await c.produce(leader, 1, null, `v${from + i}`)).nextOffset
  await leader.committed(last, 10_000)
  return last
}

/** The values a machine holds, without offsets: v<from>-0, ... */
const values = (m: ListMachine) => m.entries.map((e) => e.split('=')[1])
const expected = (n: number) => Array.from({ length: n }, (_, i) => `v${i}-0`)

t.test('committed records reach the state machine in order, and nothing above the high watermark', async (t) => {
  const { c, machines } = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  await produce(c, leader, 3)
  await c.until('every machine applied them', () => c.ids.every((id) => values(machines.get(id)!).length === 3))
  for (const other of c.ids.filter((id) => id !== leaderId)) c.isolate(other)
  const pending = await c.produce(leader, 1, null, 'uncommitted')
  for (let i = 0; i < 20; i++) await c.tick()
  t.ok(leader.highWatermark < pending.nextOffset, 'not committed: the followers are cut off')
  t.same(values(machines.get(leaderId)!), expected(3), 'the leader did not apply what it appended but has not committed')
  t.ok(leader.appliedOffset <= leader.highWatermark)
  c.healAll()
  await c.until('committed and applied', () => leader.appliedOffset >= pending.nextOffset)
  t.same(values(machines.get(leaderId)!), [...expected(3), 'uncommitted-0'])
})

t.test('a follower far behind installs the leader\'s snapshot and converges; a late observer too', async (t) => {
  const { c, machines, installs } = await start(t, { voters: 3, observers: 1, raft: { fetchMaxBytes: 64 } })
  c.isolate(4) // the observer joins late
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const behind = c.ids.find((id) => id !== leaderId && id !== 4)!
  await produce(c, leader, 2)
  c.isolate(behind)
  await produce(c, leader, 40, 2)
  await c.until('the leader snapshotted past the lagging follower', () => leader.log.logStartOffset > c.get(behind).log.logEndOffset)
  const snapshot = leader.status().snapshot!
  t.ok(snapshot.sizeBytes > 64 * 3, `the snapshot (${snapshot.sizeBytes} bytes) takes several chunks of 64`)
  c.isolate(behind, false)
  c.isolate(4, false)
  for (const id of [behind, 4]) {
    await c.until(`node ${id} caught up`, () => c.get(id).appliedOffset === leader.appliedOffset && c.get(id).log.logEndOffset === leader.log.logEndOffset)
    t.ok((installs.get(id) ?? []).length >= 1, `node ${id} installed a snapshot`)
    const m = machines.get(id)!
    t.same(values(m), expected(42), `node ${id} holds the committed state, each value once`)
    t.ok(m.calls.every((call) => !call.startsWith('apply') || Number(call.split(' ')[1]) >= installs.get(id)![0].endOffset || m.calls.indexOf(call) < m.calls.indexOf(`restore ${installs.get(id)![0].endOffset}`)),
      'after the install it applied only what follows the snapshot')
    t.same(c.get(id).status().voters, [1, 2, 3], `node ${id} has the voter set the snapshot names`)
  }
  t.same(c.get(4).status().voter, false, 'the observer is still an observer')
})

t.test('a crash in the middle of a download restarts it from the beginning', async (t) => {
  const { c, machines, installs } = await start(t, { voters: 3, raft: { fetchMaxBytes: 64 } })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const behind = c.ids.find((id) => id !== leaderId)!
  c.isolate(behind)
  await produce(c, leader, 30)
  await c.until('the leader snapshotted', () => leader.log.logStartOffset > 0)
  // Let three chunks through, then hold the rest: the follower is part way through the download.
  let chunks = 0
  c.route = (m: Message) => (m.type === 'fetchSnapshotResponse' && m.to === behind && ++chunks > 3 ? 'drop' : 'deliver')
  c.isolate(behind, false)
  await c.until('three chunks arrived', () => chunks > 3)
  t.ok(c.disks.get(behind)!.exists(`${c.dir(behind)}/${PENDING_SNAPSHOT_FILE}`), 'a download is in progress')
  c.crash(behind, true)
  const asked: number[] = []
  c.route = (m: Message) => {
    if (m.type === 'fetchSnapshot' && m.from === behind) asked.push(m.position)
    return 'deliver'
  }
  await c.open(behind)
  await c.until('the follower caught up', () => c.get(behind).appliedOffset === leader.appliedOffset)
  t.equal(asked[0], 0, 'the download started over at position 0')
  t.same(values(machines.get(behind)!), expected(30))
  t.equal(installs.get(behind)?.length, 1)
})

t.test('a power cut at any point of an install leaves a consistent replica that converges', async (t) => {
  for (let k = 0; k < 16; k++) {
    const { c, machines } = await start(t, { voters: 3, raft: { fetchMaxBytes: 64 } })
    const leader = await c.electLeader()
    const leaderId = c.leaderId()!
    const behind = c.ids.find((id) => id !== leaderId)!
    await produce(c, leader, 3)
    await c.until('the follower applied the first values', () => c.get(behind).appliedOffset === leader.appliedOffset)
    c.isolate(behind)
    await produce(c, leader, 30, 3)
    await c.until('the leader snapshotted past the follower', () => leader.log.logStartOffset > c.get(behind).log.logEndOffset)
    const snapshot = leader.status().snapshot!
    // Hold the last chunk, deliver it, and cut the power `k` turns into the install.
    c.route = (m: Message) => (m.type === 'fetchSnapshotResponse' && m.to === behind && m.kind === 'chunk' && m.position + m.length === snapshot.sizeBytes ? 'hold' : 'deliver')
    c.isolate(behind, false)
    await c.until('the last chunk is on its way', () => c.held.length > 0)
    c.route = () => 'deliver'
    void c.deliver(c.held.shift()!)
    for (let i = 0; i < k; i++) await turn()
    c.crash(behind, true)
    const reopened = await c.open(behind)
    const machine = machines.get(behind)!
    const logStart = reopened.log.logStartOffset
    t.ok(logStart === 0 || logStart === snapshot.endOffset, `cut after ${k} turns: the log starts at the old start or the snapshot's end (${logStart})`)
    t.equal(machine.end, logStart, 'the state machine holds exactly the state below the log start')
    const committed = machines.get(leaderId)!.entries.filter((e) => Number(e.split('=')[0]) < logStart)
    t.same(machine.entries, committed, 'which is the committed prefix')
    await c.until('it converged', () => reopened.appliedOffset === leader.appliedOffset)
    t.same(values(machine), expected(33), `cut after ${k} turns: converged on the committed state`)
    await c.stopAll()
  }
})

t.test('a power cut at any point while a snapshot is taken loses nothing committed and applies nothing twice', async (t) => {
  const seen = new Set<number>()
  for (let k = 0; k < 24; k++) {
    const { c, machines } = await start(t, { voters: 1 }, 10)
    const leader = await c.electLeader()
    for (let i = 0; i < 9; i++) void c.produce(leader, 1, null, `v${i}`).catch(() => undefined)
    for (let i = 0; i < k; i++) await turn()
    const committed = leader.highWatermark
    c.crash(1, true)
    const reopened = await c.open(1)
    const machine = machines.get(1)!
    const logStart = reopened.log.logStartOffset
    seen.add(logStart)
    t.equal(machine.end, logStart, `cut after ${k} turns: the state machine holds the snapshot's state (log start ${logStart})`)
    await c.until('leading again, everything applied', () => reopened.leaderReady && reopened.appliedOffset === reopened.highWatermark)
    const got = values(machine)
    t.same(got, expected(got.length), 'a prefix of what was produced, each value once')
    t.ok(got.length + 1 >= committed, `nothing committed before the cut (${committed}) is lost (${got.length + 1} offsets applied)`)
    await c.stopAll()
  }
  t.same([...seen].sort((a, b) => a - b), [0, 10], 'cuts landed both before and after the snapshot took effect')
})

t.test('a restart loads the snapshot and replays the tail, applying nothing twice', async (t) => {
  const { c, machines } = await start(t, { voters: 1 }, 10)
  const leader = await c.electLeader()
  await produce(c, leader, 25)
  await c.until('everything applied', () => leader.appliedOffset === leader.highWatermark)
  const snapshotEnd = leader.status().snapshot!.endOffset
  t.ok(snapshotEnd > 0 && snapshotEnd < leader.log.logEndOffset, `a snapshot at ${snapshotEnd} and a tail to ${leader.log.logEndOffset}`)
  t.equal(leader.log.logStartOffset, snapshotEnd, 'the log below the snapshot is deleted')
  c.crash(1, true)
  const restarted = await c.open(1)
  const machine = machines.get(1)!
  t.same(machine.calls.slice(0, 1), [`restore ${snapshotEnd}`], 'it starts from the snapshot')
  await c.until('the tail replayed', () => restarted.leaderReady && restarted.appliedOffset === restarted.highWatermark)
  t.same(values(machine), expected(25), 'the committed state, each value once')
  t.ok(machine.calls.slice(1).every((call) => Number(call.split(' ')[1]) >= snapshotEnd), `only the tail was applied: ${machine.calls.join(', ')}`)
})

t.test('a snapshot that reached the disk before the log start moved: reopening moves it', async (t) => {
  const { c, machines } = await start(t, { voters: 1 }, 10)
  const leader = await c.electLeader()
  await produce(c, leader, 4)
  await c.until('applied, no snapshot yet', () => leader.appliedOffset === 5)
  t.equal(leader.status().snapshot, null)
  // The snapshot's log-start write fails: the replica reopens with the snapshot on disk and the log behind it.
  c.files.get(1)!.failNext = { op: 'sync', path: /log-start-offset/ }
  await produce(c, leader, 11, 4).catch(() => undefined) // the reopen may fail an acks=all wait
  await c.until('reopened and applied everything', () => c.get(1).leaderReady && c.get(1).appliedOffset === c.get(1).log.logEndOffset)
  t.match(c.logs.get(1)!.lines, [{ msg: /reopen/, fields: { error: /EIO.*log-start-offset/ } }], 'the failure made it reopen')
  const r = c.get(1)
  t.ok(r.status().snapshot !== null, 'a snapshot')
  t.equal(r.log.logStartOffset, r.status().snapshot!.endOffset, 'the log starts at the snapshot')
  t.same(values(machines.get(1)!), expected(15))
})
