// Group writes bounded by the batch limit yet never stuck: one expiry check over many groups is
// one batch while it fits, then each group's removals whole, then fewer members per step; a
// member whose removal alone does not fit stays expired (and is reported); DeleteGroups'
// tombstones may be cut anywhere and leave a group that can be deleted again.
import t from 'tap'
import { GroupModel, names } from './model.js'
import { planExpiry } from '../../../src/broker/groups/core/expire.js'
import { commitOffsets, deleteGroup } from '../../../src/broker/groups/core/offsets.js'
import { replayAll, type GroupRecord } from '../../../src/broker/groups/core/records.js'
import { emptyGroup, isDead, type GroupState } from '../../../src/broker/groups/core/state.js'

const TOPICS = new Map([['orders', 6]])
const SESSION_MS = 10_000
const EXPIRED_AT_MS = SESSION_MS + 1_000

/** A group whose members joined at 0 with a 10 s session (or `sessionTimeoutMs`). */
function groupWith(groupId: string, members: number, sessionTimeoutMs = SESSION_MS): GroupState {
  const m = new GroupModel(TOPICS, groupId)
  for (let i = 0; i < members; i++) m.beat(m.client(names('orders'), null, sessionTimeoutMs))
  m.settle()
  return m.group
}

/** A list's record count stands for its bytes: one member's removal is 4 records (3 tombstones, the group epoch). */
const upTo = (n: number) => (records: readonly GroupRecord[]) => records.length <= n
const groupsOf = (batch: readonly GroupRecord[]) => new Set(batch.map((r) => r.groupId))

t.test('every expiry of the check in one batch when it fits', async (t) => {
  const groups = [groupWith('a', 3), groupWith('b', 2), groupWith('c', 2, 60_000)]
  let asked = 0
  const plan = planExpiry(groups, EXPIRED_AT_MS, TOPICS, (r) => (asked++, r.length > 0))
  t.equal(plan.batches.length, 1)
  t.equal(asked, 1, 'measured once')
  t.same(plan.removed.map((r) => r.groupId).sort(), ['a', 'a', 'a', 'b', 'b'])
  t.same(plan.unwritable, [])
  const [a, b, c] = groups.map((g) => replayAll(g, plan.batches[0].filter((r) => r.groupId === g.groupId)))
  t.equal(a.members.size + b.members.size, 0, 'both groups lost their members')
  t.equal(c.members.size, 2, 'the group whose sessions run on keeps its members')
  t.equal(plan.deadlines.get('a')?.size, 0)
  t.equal(plan.deadlines.get('c')?.size, 2)
  t.same(planExpiry(groups, 1_000, TOPICS, () => false).batches, [], 'nothing expired: nothing to write, nothing measured')
})

t.test('too large together: each group whole, packed in order into as few batches as fit', async (t) => {
  const groups = [groupWith('a', 3), groupWith('b', 2), groupWith('c', 2)]
  // a: 3 x 3 tombstones + its epoch = 10 records; b and c: 7 each.
  const plan = planExpiry(groups, EXPIRED_AT_MS, TOPICS, upTo(14))
  t.same(plan.batches.map((b) => [...groupsOf(b)]), [['a'], ['b', 'c']])
  t.equal(plan.removed.length, 7)
  t.same(plan.unwritable, [])
})

t.test('a group too large for one batch loses fewer members per step, every one of them in this check', async (t) => {
  const group = groupWith('big', 20)
  const plan = planExpiry([group], EXPIRED_AT_MS, TOPICS, upTo(9)) // two members a step (8 records), two steps never fit
  t.equal(plan.removed.length, 20, 'all 20 removed')
  t.same(plan.unwritable, [])
  t.ok(plan.batches.every((b) => b.length <= 9), 'every batch within the limit')
  t.ok(plan.batches.every((b) => b[b.length - 1].kind === 'group'), 'each batch ends a step: its removals, then the group epoch bump')
  let prefix = group
  for (const b of plan.batches) {
    const before = prefix.groupEpoch
    prefix = replayAll(prefix, b)
    t.ok(prefix.groupEpoch > before, 'a prefix of the batches is a group at a newer epoch, never removals without one')
  }
  t.equal(prefix.members.size, 0)
  t.equal(prefix.groupEpoch, group.groupEpoch + 10, 'ten steps of two members')
  t.equal(plan.deadlines.get('big')?.size, 0)
})

t.test('a member whose removal alone does not fit stays expired, is reported, and holds no other group back', async (t) => {
  const stuck = groupWith('stuck', 3)
  const other = groupWith('other', 1)
  // The stuck group's epoch record is too large for any batch (as one carrying thousands of subscribed topics would be).
  const fits = (records: readonly GroupRecord[]) => !records.some((r) => r.groupId === 'stuck' && r.kind === 'group')
  const plan = planExpiry([stuck, other], EXPIRED_AT_MS, TOPICS, fits)
  t.same(plan.unwritable.map((u) => ({ groupId: u.groupId, expired: u.expired, records: u.records.length })), [{ groupId: 'stuck', expired: 3, records: 4 }])
  t.same(plan.removed.map((r) => r.groupId), ['other'], 'the group that fits loses its member')
  t.equal(plan.batches.length, 1)
  t.same([...groupsOf(plan.batches[0])], ['other'])
  const deadlines = plan.deadlines.get('stuck')!
  t.equal(deadlines.size, 3, 'the stuck group keeps every deadline')
  t.ok([...deadlines.values()].every((d) => d.sessionDeadlineMs <= EXPIRED_AT_MS), 'still expired: the next check tries again')
  const next = planExpiry([{ ...stuck, deadlines }], EXPIRED_AT_MS + 500, TOPICS, fits)
  t.equal(next.unwritable[0]?.expired, 3, 'and finds them expired again, not given a fresh session')
  const raised = planExpiry([{ ...stuck, deadlines }], EXPIRED_AT_MS + 1_000, TOPICS, upTo(100))
  t.equal(raised.removed.length, 3, 'once the limit is raised they go')
})

t.test('members loaded without deadlines get them in the plan, also where the group cannot be written', async (t) => {
  const group = groupWith('g', 4)
  const [first, second] = [...group.deadlines.keys()]
  const loaded = { ...group, deadlines: new Map([first, second].map((id) => [id, group.deadlines.get(id)!])) } // two loaded by a new leader
  const plan = planExpiry([loaded], EXPIRED_AT_MS, TOPICS, upTo(3))
  t.equal(plan.unwritable[0]?.expired, 2)
  const deadlines = plan.deadlines.get('g')!
  t.equal(deadlines.size, 4)
  t.equal([...deadlines.values()].filter((d) => d.sessionDeadlineMs === EXPIRED_AT_MS + SESSION_MS).length, 2, 'a full session from now for the two without one, kept for the next check')
})

t.test('DeleteGroups: cut anywhere, the tombstones leave a group to delete again, or nothing', async (t) => {
  const exists = (g: GroupState) => g.groupEpoch > 0 || g.members.size > 0 || g.offsets.size > 0
  const offsets = Array.from({ length: 30 }, (_, partition) => ({ topic: 'orders', partition, offset: 5, leaderEpoch: -1, metadata: '' }))
  const m = new GroupModel(TOPICS, 'had-members')
  const member = m.client(names('orders'))
  m.beat(member)
  m.leave(member)
  t.ok(m.group.groupEpoch > 0 && m.group.members.size === 0, 'a group that had a member')
  for (const start of [m.group, emptyGroup('offsets-only')]) {
    const g = commitOffsets(start, { groupId: start.groupId, memberId: '', memberEpoch: -1, offsets }, 1).group
    const { records, error } = deleteGroup(g)
    t.equal(error, null)
    t.equal(records[records.length - 1].kind, 'group', `${g.groupId}: the group's own tombstone is last`)
    for (let cut = 0; cut < records.length; cut++) {
      const left = replayAll(g, records.slice(0, cut))
      if (!exists(left)) {
        if (!isDead(left)) t.fail(`${g.groupId}: cut at ${cut} leaves a group no one can see, yet alive`)
        continue
      }
      const again = deleteGroup(left)
      if (again.error !== null || !isDead(replayAll(left, again.records)) || replayAll(left, again.records).groupEpoch !== 0) t.fail(`${g.groupId}: cut at ${cut} leaves a group a second delete does not finish`)
    }
    t.ok(isDead(replayAll(g, records)), `${g.groupId}: all of it deletes the group`)
  }
})
