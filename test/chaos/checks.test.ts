// The chaos tool's pure parts: a seed replays the same schedule (and the corruption fault only
// when asked for), and each history check catches the anomaly it names and passes a clean one.
import t from 'tap'
import { checkHistory, consumerWentBack, duplicated, inconsistentOffsets, lostOrMoved, neverProduced, outOfOrder, replicasDiffer } from './checks.js'
import { describeFault, makeSchedule } from './schedule.js'
import type { History } from './workload.js'

t.test('a seed replays its schedule; another seed gives another', async (t) => {
  const o = { nodes: [1, 2, 3], corrupt: false }
  t.same(makeSchedule(42, o), makeSchedule(42, o))
  t.notSame(makeSchedule(42, o), makeSchedule(43, o))
  const kinds = new Set(makeSchedule(42, o).map((s) => s.fault.kind))
  t.same([...kinds].sort(), ['delay', 'isolate', 'kill', 'loss', 'one-way', 'partition', 'pause'], 'every fault kind but corruption')
  t.ok(makeSchedule(42, { ...o, corrupt: true }).some((s) => s.fault.kind === 'corrupt'), 'corruption when asked for')
  for (const s of makeSchedule(7, o)) {
    const f = s.fault
    if (f.kind === 'partition') t.not(f.a, f.b)
    if (f.kind === 'one-way') t.not(f.from, f.to)
  }
  t.match(describeFault({ kind: 'one-way', from: 1, to: 2, how: 'silent' }), 'cut 1 -> 2 (silent)')
  t.same(new Set(makeSchedule(42, { ...o, kinds: ['kill'] }).map((s) => s.fault.kind)), new Set(['kill']), '--faults kill: only kills')
  t.notOk(makeSchedule(42, o).some((s) => s.fault.kind === 'kill-leader'), 'kill-leader only when asked for (seeds keep their schedules)')
  const leaders = makeSchedule(42, { ...o, kinds: ['kill-leader'] }).map((s) => s.fault)
  t.ok(leaders.every((f) => f.kind === 'kill-leader' && f.partition >= 0 && f.partition < 3), '--faults kill-leader: partitions of the topic')
  t.same(new Set(leaders.map((f) => (f as { partition: number }).partition)), new Set([0, 1, 2]), 'every partition drawn')
  t.throws(() => makeSchedule(42, { ...o, kinds: ['corrupt'] }), /at least one fault kind/, 'corrupt without --corrupt-segments leaves nothing to draw')
})

const ack = (partition: number, seq: number, offset: number) => ({ value: `p${partition}-${seq}`, partition, seq, offset })
const read = (partition: number, offset: number, value: string) => ({ partition, offset, value })

t.test('each check finds its anomaly', async (t) => {
  t.match(lostOrMoved([ack(0, 0, 5)], [read(0, 5, 'p0-1')]), [/lost: p0-0 was acknowledged at 0\/5, which reads back as p0-1/])
  t.match(lostOrMoved([ack(0, 0, 5)], []), [/reads back as nothing/])
  t.match(outOfOrder([ack(0, 0, 5), ack(0, 1, 4), ack(1, 0, 1)]), [/order: p0-1 at offset 4 is not after p0-0 at 5/])
  t.match(neverProduced(new Set(['p0-0']), [read(0, 0, 'p0-0'), read(0, 1, 'junk')]), [/phantom: 0\/1 reads "junk"/])
  t.match(inconsistentOffsets([read(0, 1, 'a'), read(0, 1, 'b')]), [/inconsistent: 0\/1 read as a and as b/])
  t.match(consumerWentBack([read(0, 3, 'a'), read(1, 1, 'b'), read(0, 2, 'c')]), [/non-monotonic: the consumer read 0\/2 after 0\/3/])
  t.match(replicasDiffer('t/0', new Map([[1, ['x', 'y']], [2, ['x', 'y']], [3, ['x']]])), [/t\/0 differs between node 1 and node 3 at batch 1: y vs nothing/])
})

t.test('a clean history passes every check', async (t) => {
  const h: History = { sent: new Set(['p0-0', 'p0-1', 'p0-2']), acks: [ack(0, 0, 0), ack(0, 2, 3)], failed: 1, reads: [read(0, 0, 'p0-0'), read(0, 1, 'p0-1')], consumerRestarts: 0 }
  // p0-1 failed to be acknowledged yet was appended (at 1); a leader change took offset 2.
  t.same(checkHistory(h, [read(0, 0, 'p0-0'), read(0, 1, 'p0-1'), read(0, 3, 'p0-2')]), [])
  t.same(replicasDiffer('t/0', new Map([[1, ['x']], [2, ['x']]])), [])
  t.same(checkHistory(h, null), [], 'no read-back (it failed, reported on its own): no "lost" for each acknowledgement')
  t.match(checkHistory(h, []), [/lost: p0-0/, /lost: p0-2/], 'an empty read-back loses everything')
})

t.test('duplicated: a value read back at two offsets (the idempotent mode fails on it)', async (t) => {
  t.same(duplicated([{ partition: 0, offset: 0, value: 'p0-0' }, { partition: 0, offset: 1, value: 'p0-1' }]), [])
  t.match(duplicated([{ partition: 0, offset: 0, value: 'p0-0' }, { partition: 0, offset: 1, value: 'p0-1' }, { partition: 0, offset: 2, value: 'p0-0' }]),
    ['duplicate: p0-0 written 2 times, at 0/0, 0/2'])
})
