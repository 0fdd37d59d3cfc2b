// The damaged-log state of the core (src/raft/damage.ts): a replica whose log was truncated at a
// bad batch neither votes, nor campaigns, nor takes a transfer until it has re-fetched what it
// lost; an unverified log is checked before a campaign. A hand-cranked three-node cluster whose
// "logs" are arrays of epochs (one entry per offset): enough to carry out every directive.
import t from 'tap'
import { RaftCore } from '../../src/raft/core.js'
import type { Directive, LogView, Message, RaftConfig } from '../../src/raft/types.js'

interface Node {
  core: RaftCore
  /** Epoch of each offset: the whole log. */
  log: number[]
  /** Directives seen, by kind (what the shell was asked to do). */
  asked: string[]
}

function config(id: number, extra: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id, voters: [1, 2, 3], electionTimeoutTicks: 10, fetchTimeoutTicks: 20, fetchMaxWaitTicks: 4, fetchRetryTicks: 6,
    beginQuorumRetryTicks: 4, fetchMaxBytes: 1000, random: () => id - 1, ...extra,
  }
}

class Cluster {
  readonly nodes = new Map<number, Node>()
  queue: Message[] = []

  constructor(views: Partial<Record<number, Partial<LogView>>> = {}) {
    for (const id of [1, 2, 3]) {
      const view = { logStart: 0, logEnd: 0, flushedEnd: 0, epochs: [], ...views[id] }
      this.nodes.set(id, { core: new RaftCore(config(id), null, view), log: [], asked: [] })
    }
  }

  node(id: number): Node {
    return this.nodes.get(id)!
  }

  /** Carries out each node's Readies (appends are flushed at once) and queues their messages. */
  pump(id: number): void {
    const n = this.node(id)
    for (let i = 0; n.core.hasReady(); i++) {
      if (i > 100) throw new Error('no settle')
      const rd = n.core.ready()
      const appends: Array<{ end: number; epochStarts: Array<{ epoch: number; startOffset: number }> }> = []
      for (const d of rd.directives) {
        n.asked.push(d.kind)
        const a = this.execute(n, d)
        if (a !== null) appends.push(a)
      }
      this.queue.push(...rd.messages)
      n.core.advance()
      for (const a of appends) {
        n.core.appended(a.end, { epochStarts: a.epochStarts })
        n.core.flushed(a.end)
      }
    }
  }

  private execute(n: Node, d: Directive): { end: number; epochStarts: Array<{ epoch: number; startOffset: number }> } | null {
    switch (d.kind) {
      case 'appendLeaderChange':
        n.log.push(d.epoch)
        return { end: n.log.length, epochStarts: [{ epoch: d.epoch, startOffset: n.log.length - 1 }] }
      case 'appendFetched': {
        const records = d.records as number[]
        const from = n.log.length
        const starts: Array<{ epoch: number; startOffset: number }> = []
        for (const e of records) {
          const last = starts.length > 0 ? starts[starts.length - 1].epoch : (n.log[n.log.length - 1] ?? 0)
          if (e !== last) starts.push({ epoch: e, startOffset: n.log.length })
          n.log.push(e)
        }
        if (from === n.log.length) throw new Error('an empty append')
        return { end: n.log.length, epochStarts: starts }
      }
      case 'attachRecords': {
        const slice = n.log.slice(d.fromOffset)
        d.response.records = slice.length === 0 ? null : slice
        return null
      }
      case 'truncate':
        n.log.length = d.offset
        return null
      case 'verifyLog':
        return null // the test answers with logVerified / logDamaged itself
      default:
        throw new Error(`unexpected directive ${d.kind}`)
    }
  }

  /** Delivers queued messages (not those `drop` rejects) until none are left; pumps after each. */
  stabilize(drop: (m: Message) => boolean = () => false): void {
    for (let round = 0; this.queue.length > 0; round++) {
      if (round > 1000) throw new Error('no settle')
      const m = this.queue.shift()!
      if (drop(m)) continue
      this.node(m.to).core.receive(m)
      this.pump(m.to)
    }
  }

  tick(ids: number[], count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const id of ids) {
        this.node(id).core.tick()
        this.pump(id)
      }
      this.stabilize()
    }
  }

  /** Elects `id` and has it write `records` client entries, committed everywhere. */
  elect(id: number, records: number): void {
    this.node(id).core.campaign()
    this.pump(id)
    this.stabilize()
    const n = this.node(id)
    t.equal(n.core.status().role, 'leader', `node ${id} leads`)
    for (let i = 0; i < records; i++) {
      const r = n.core.propose()
      if (!r.ok) throw new Error(`refused: ${r.reason}`)
      n.log.push(r.epoch)
      n.core.appended(n.log.length)
      n.core.flushed(n.log.length)
      this.pump(id)
    }
    this.stabilize()
    this.tick([1, 2, 3], 10) // fetches carry the HW around
  }

  leader(): number | null {
    for (const [id, n] of this.nodes) if (n.core.status().role === 'leader') return id
    return null
  }
}

function vote(from: number, to: number, epoch: number, lastEpoch: number, logEnd: number, preVote: boolean): Message {
  return { type: 'vote', from, to, epoch, preVote, lastEpoch, logEnd }
}

t.test('a damaged follower truncates, refuses votes and pre-votes, and is repaired by re-fetching', async (t) => {
  const c = new Cluster()
  c.elect(1, 10)
  const n2 = c.node(2)
  t.equal(n2.log.length, 11)
  t.equal(n2.core.status().highWatermark, 11)

  n2.core.logDamaged(4)
  const s = n2.core.status()
  t.equal(s.logEnd, 4, 'the core sees the truncated log end')
  t.equal(s.flushedEnd, 4, 'and flushed end')
  t.equal(s.damagedUntil, 11, 'damaged until the old log end')
  t.equal(s.highWatermark, 4, 'its HW is clamped to what it holds')
  const rd = n2.core.ready()
  n2.core.advance()
  t.same(rd.directives, [{ kind: 'truncate', offset: 4 }], 'the shell truncates the log')
  n2.log.length = 4
  t.match(rd.messages, [{ type: 'fetch', to: 1, fetchOffset: 4, flushedOffset: 4 }], 'its next fetch reports its real offsets')

  // Node 3 campaigns with a log shorter than what node 2 once held: node 2 must not help it.
  for (const preVote of [true, false]) {
    n2.core.receive(vote(3, 2, 2, 1, 4, preVote))
    const out = n2.core.ready()
    n2.core.advance()
    t.match(out.messages.filter((m) => m.type === 'voteResponse'), [{ type: 'voteResponse', granted: false, preVote }],
      `a ${preVote ? 'pre-vote' : 'vote'} is refused while damaged`)
  }
  t.equal(n2.core.status().votedFor, null, 'and no vote was recorded')
})

t.test('a damaged follower does not campaign: not on a timeout, not when asked, not on a transfer', async (t) => {
  const c = new Cluster()
  c.elect(1, 5)
  const n2 = c.node(2)
  n2.core.logDamaged(2)
  c.pump(2)
  n2.core.campaign()
  c.pump(2)
  t.equal(n2.core.status().role, 'follower', 'campaign() does nothing')
  // The leader goes silent: node 2 must not campaign however long it waits.
  c.queue = []
  for (let i = 0; i < 100; i++) {
    n2.core.tick()
    c.pump(2)
  }
  t.not(n2.core.status().role, 'prospective')
  t.not(n2.core.status().role, 'candidate')
  t.notOk(c.queue.some((m) => m.type === 'vote'), 'no pre-vote or vote left node 2')

  // A leader's transfer resigns naming it first: it still does not campaign.
  const c2 = new Cluster()
  c2.elect(1, 5)
  c2.node(2).core.logDamaged(3)
  c2.pump(2)
  t.match(c2.node(1).core.transferLeadership(2), { ok: true })
  c2.pump(1)
  c2.stabilize((m) => m.from === 2 && m.type === 'fetch') // node 2 cannot catch up meanwhile
  c2.tick([1], 1)
  for (let i = 0; i < 100 && c2.node(1).core.status().role === 'leader'; i++) c2.tick([1])
  c2.tick([2], 5)
  t.not(c2.node(2).core.status().role, 'leader', 'the damaged target does not take over')
})

t.test('once it has re-fetched past the old log end, the repaired node votes and can lead', async (t) => {
  const c = new Cluster()
  c.elect(1, 10)
  const n2 = c.node(2)
  n2.core.logDamaged(4)
  c.pump(2)
  c.stabilize()
  c.tick([1, 2, 3], 3)
  t.equal(n2.log.length, 11, 're-fetched the damaged range')
  t.same(n2.log, c.node(1).log, 'identical to the leader')
  t.equal(n2.core.status().damagedUntil, null, 'repaired')

  t.match(c.node(1).core.transferLeadership(2), { ok: true })
  c.pump(1)
  c.stabilize()
  c.tick([1, 2, 3], 3)
  t.equal(c.leader(), 2, 'the repaired node takes a transfer')
})

t.test('a node that caught up with its leader is repaired even if the leader has less than it once held', async (t) => {
  const c = new Cluster()
  c.elect(1, 3)
  const n2 = c.node(2)
  n2.core.logDamaged(2)
  c.pump(2)
  // Pretend node 2 once held a longer (uncommitted) tail: the bar is past the leader's end.
  t.equal(n2.core.status().damagedUntil, 4)
  c.stabilize()
  c.tick([1, 2, 3], 3)
  t.equal(n2.log.length, 4)
  t.equal(n2.core.status().damagedUntil, null, 'an empty answer at the leader end repairs it')
})

t.test('a damaged leader resigns first, then truncates', async (t) => {
  const c = new Cluster()
  c.elect(1, 6)
  const n1 = c.node(1)
  n1.core.logDamaged(3)
  const rd = n1.core.ready()
  n1.core.advance()
  t.equal(n1.core.status().role, 'unattached', 'no longer leads')
  t.same(rd.directives, [{ kind: 'truncate', offset: 3 }])
  t.ok(rd.messages.some((m) => m.type === 'endQuorumEpoch'), 'told the voters to elect a successor')
  n1.log.length = 3
  c.queue.push(...rd.messages)
  c.stabilize()
  c.tick([1, 2, 3], 40)
  const leader = c.leader()
  t.ok(leader === 2 || leader === 3, `another voter leads (${leader})`)
  t.same(n1.log, c.node(leader!).log, 'the old leader re-fetched what it lost')
  t.equal(n1.core.status().damagedUntil, null)
})

t.test('an unverified log asks the shell for a check before campaigning, and campaigns after it', async (t) => {
  const c = new Cluster({ 2: { unverified: true } })
  const n2 = c.node(2)
  n2.core.campaign()
  c.pump(2)
  t.same(n2.asked, ['verifyLog'], 'the shell is asked to check the log')
  t.equal(n2.core.status().role, 'unattached', 'no pre-vote yet')
  t.equal(c.queue.length, 0, 'nothing sent')
  n2.core.campaign()
  c.pump(2)
  t.same(n2.asked, ['verifyLog'], 'asked once')
  n2.core.logVerified()
  t.equal(n2.core.status().logUnverified, false)
  t.equal(n2.core.status().role, 'prospective', 'the campaign that waited goes ahead at once')
  c.pump(2)
  c.stabilize()
  t.equal(c.leader(), 2, 'and wins')

  // An unverified node still votes: its log claims no more than it holds.
  const v = new Cluster({ 2: { unverified: true } })
  v.elect(1, 1)
  t.equal(v.leader(), 1, 'elected with the unverified node voting')
})

t.test('a lone voter is not checked before it elects itself', async (t) => {
  const core = new RaftCore(config(1, { voters: [1] }), null, { logStart: 0, logEnd: 0, flushedEnd: 0, epochs: [], unverified: true })
  core.campaign()
  const rd = core.ready()
  core.advance()
  t.same(rd.directives.map((d) => d.kind), ['appendLeaderChange'])
})

t.test('the damaged state survives a restart through the log view', async (t) => {
  const core = new RaftCore(config(2), { epoch: 1, votedFor: 1, leaderId: 1 }, {
    logStart: 0, logEnd: 4, flushedEnd: 4, epochs: [{ epoch: 1, startOffset: 0 }], damagedUntil: 11,
  })
  t.equal(core.status().damagedUntil, 11)
  core.receive(vote(3, 2, 2, 1, 4, true))
  t.match(core.ready().messages.filter((m) => m.type === 'voteResponse'), [{ type: 'voteResponse', granted: false }])
  core.advance()
  const healed = new RaftCore(config(2), null, { logStart: 0, logEnd: 11, flushedEnd: 11, epochs: [{ epoch: 1, startOffset: 0 }], damagedUntil: 11 })
  t.equal(healed.status().damagedUntil, null, 'a log already past the bar is not damaged')
})
