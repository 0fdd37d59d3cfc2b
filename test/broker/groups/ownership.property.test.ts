// Property: for any sequence of joins, leaves, heartbeats (applied or not, answers lost),
// subscription changes, static leaves and rejoins and clock jumps, no partition is ever owned by
// two members — neither in the coordinator's state nor in what the live clients consume — and
// once heartbeats settle every subscribed partition has exactly one owner, a member that
// subscribes to its topic. Replaying the records written rebuilds the same group.
import t from 'tap'
import fc from 'fast-check'
import { GroupModel, names, pattern, type Client } from './model.js'
import { resolveSubscription } from '../../../src/broker/groups/core/subscription.js'
import { groupPhase } from '../../../src/broker/groups/core/state.js'
import { equal } from '../../../src/broker/groups/core/topic-partitions.js'

const TOPICS = new Map([
  ['orders', 6],
  ['payments', 3],
  ['audit', 2],
])
const SUBSCRIPTIONS = [names('orders'), names('orders', 'payments'), names('payments', 'audit'), pattern('o.*|a.*'), pattern('.*'), names('missing')]

type Action =
  | { kind: 'join'; sub: number; instance: number | null }
  | { kind: 'beat'; who: number; apply: boolean; lost: boolean }
  | { kind: 'leave'; who: number; isStatic: boolean }
  | { kind: 'resubscribe'; who: number; sub: number }
  | { kind: 'advance'; ms: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('join' as const), sub: fc.nat(SUBSCRIPTIONS.length - 1), instance: fc.option(fc.nat(2), { nil: null }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('beat' as const), who: fc.nat(20), apply: fc.boolean(), lost: fc.constant(false) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('beat' as const), who: fc.nat(20), apply: fc.boolean(), lost: fc.constant(true) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), who: fc.nat(20), isStatic: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resubscribe' as const), who: fc.nat(20), sub: fc.nat(SUBSCRIPTIONS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(100, 1_000, 4_000, 6_000, 11_000) }) },
)

function pick(model: GroupModel, who: number): Client | undefined {
  const clients = [...model.clients.values()]
  return clients.length === 0 ? undefined : clients[who % clients.length]
}

function run(model: GroupModel, a: Action): void {
  switch (a.kind) {
    case 'join': {
      const instanceId = a.instance === null ? null : `i${a.instance}`
      // A static client replaces a previous process of the same instance only after that one left.
      if (instanceId && [...model.clients.values()].some((c) => c.instanceId === instanceId)) return
      model.beat(model.client(SUBSCRIPTIONS[a.sub], instanceId))
      return
    }
    case 'beat': {
      const c = pick(model, a.who)
      if (c) model.beat(c, { apply: a.apply, lost: a.lost })
      return
    }
    case 'leave': {
      const c = pick(model, a.who)
      if (c && c.epoch > 0) model.leave(c, a.isStatic && c.instanceId ? -2 : -1)
      return
    }
    case 'resubscribe': {
      const c = pick(model, a.who)
      if (!c || c.epoch <= 0) return
      c.subscription = SUBSCRIPTIONS[a.sub]
      model.beat(c, { request: { subscription: c.subscription } })
      return
    }
    case 'advance':
      model.advance(a.ms)
  }
}

function noDoubleOwner(owners: Map<string, string[]>): string | null {
  for (const [tp, ids] of owners) if (ids.length > 1) return `${tp} owned by ${ids.join(' and ')}`
  return null
}

t.test('no partition has two owners; settled, every subscribed partition has one', async (t) => {
  fc.assert(
    fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
      const model = new GroupModel(TOPICS)
      for (const a of actions) {
        run(model, a)
        const problem = noDoubleOwner(model.serverOwners()) ?? noDoubleOwner(model.clientOwners())
        if (problem) throw new Error(`after ${JSON.stringify(a)}: ${problem}`)
      }
      model.settle()
      const problem = noDoubleOwner(model.serverOwners()) ?? noDoubleOwner(model.clientOwners())
      if (problem) throw new Error(`settled: ${problem}`)
      // Every partition some live member subscribes to has exactly one consuming owner, which subscribes to it.
      // A static member away (epoch -2) keeps its place in the target until it is back or times out.
      const owners = model.clientOwners()
      for (const [id, a] of model.group.current) {
        if (a.memberEpoch !== -2) continue
        for (const [topic, ps] of model.group.target.get(id) ?? []) for (const p of ps) owners.set(`${topic}-${p}`, [...(owners.get(`${topic}-${p}`) ?? []), id])
      }
      for (const c of model.clients.values()) {
        const mine = resolveSubscription(c.subscription.topicNames, c.subscription.topicRegex, TOPICS.keys())
        for (const topic of mine) for (let p = 0; p < TOPICS.get(topic)!; p++) if ((owners.get(`${topic}-${p}`) ?? []).length !== 1) throw new Error(`settled: ${topic}-${p} has owners ${owners.get(`${topic}-${p}`)}`)
        for (const topic of c.owned.keys()) if (!mine.has(topic)) throw new Error(`settled: ${c.memberId} owns ${topic} it does not subscribe to`)
      }
      if (model.clients.size > 0 && groupPhase(model.group) !== 'stable') throw new Error(`settled: group is ${groupPhase(model.group)}`)
      // The records rebuild the group.
      const replayed = model.replayed()
      if (replayed.groupEpoch !== model.group.groupEpoch || replayed.assignmentEpoch !== model.group.assignmentEpoch) throw new Error('replay: epochs differ')
      if (replayed.members.size !== model.group.members.size) throw new Error('replay: members differ')
      for (const [id, a] of model.group.current) {
        const b = replayed.current.get(id)
        if (!b || b.memberEpoch !== a.memberEpoch || b.state !== a.state || !equal(a.assigned, b.assigned) || !equal(a.pendingRevocation, b.pendingRevocation)) throw new Error(`replay: ${id} differs`)
      }
      return true
    }),
    { numRuns: 1500 },
  )
})
