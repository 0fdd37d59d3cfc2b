// A model of consumer-group clients driving the pure group core, shared by the property and
// scenario tests: each client consumes what the coordinator's last answer gave it (once it
// applies that answer), acknowledges revocations by reporting what it owns, and drops
// everything when it learns it was fenced or removed.
import { heartbeat, type HeartbeatRequest, type Subscription } from '../../../src/broker/groups/core/heartbeat.js'
import { expire } from '../../../src/broker/groups/core/expire.js'
import { replayAll, type GroupRecord } from '../../../src/broker/groups/core/records.js'
import { emptyGroup, type GroupState } from '../../../src/broker/groups/core/state.js'
import { EMPTY, entries, type TopicPartitions } from '../../../src/broker/groups/core/topic-partitions.js'

export interface Client {
  memberId: string
  instanceId: string | null
  epoch: number
  /** What it consumes now. */
  owned: TopicPartitions
  /** The last assignment the coordinator gave it, not yet applied. */
  pending: TopicPartitions | null
  subscription: Subscription
  sessionTimeoutMs: number
}

export class GroupModel {
  group: GroupState
  readonly records: GroupRecord[] = []
  readonly clients = new Map<string, Client>()
  nowMs = 0
  private nextId = 0

  constructor(
    readonly topics: ReadonlyMap<string, number>,
    groupId = 'g',
  ) {
    this.group = emptyGroup(groupId)
  }

  /** A new client (a new member id), not yet joined. */
  client(subscription: Subscription, instanceId: string | null = null, sessionTimeoutMs = 10_000): Client {
    const c: Client = { memberId: `m${this.nextId++}`, instanceId, epoch: 0, owned: EMPTY, pending: null, subscription, sessionTimeoutMs }
    this.clients.set(c.memberId, c)
    return c
  }

  private request(c: Client, overrides: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
    return {
      groupId: this.group.groupId,
      memberId: c.memberId,
      memberEpoch: c.epoch,
      instanceId: c.instanceId,
      rackId: null,
      subscription: c.epoch === 0 ? c.subscription : null,
      serverAssignor: null,
      sessionTimeoutMs: c.sessionTimeoutMs,
      rebalanceTimeoutMs: 5_000,
      owned: c.owned,
      clientId: 'model',
      clientHost: '127.0.0.1',
      ...overrides,
    }
  }

  /** One heartbeat; `apply` first makes the client act on the answer it holds (stop revoked, start new). `lost`: the answer never arrives. */
  beat(c: Client, opts: { apply?: boolean; lost?: boolean; request?: Partial<HeartbeatRequest> } = {}) {
    if (opts.apply !== false && c.pending) c.owned = c.pending
    c.pending = null
    const step = heartbeat(this.group, this.request(c, opts.request), { nowMs: this.nowMs, topics: this.topics })
    this.group = step.group
    this.records.push(...step.records)
    if (opts.lost) return step.response
    const r = step.response
    if (r.error) {
      if (r.error.code === 'UNKNOWN_MEMBER_ID' || r.error.code === 'FENCED_MEMBER_EPOCH') {
        c.owned = EMPTY
        c.epoch = 0
      }
      return r
    }
    c.epoch = r.memberEpoch
    c.pending = r.assignment
    return r
  }

  /** The client applies the answer it holds and heartbeats until nothing changes. */
  settle(rounds = 8): void {
    for (let i = 0; i < rounds; i++) for (const c of [...this.clients.values()]) if (c.epoch >= 0) this.beat(c)
  }

  leave(c: Client, epoch = -1) {
    const r = this.beat(c, { request: { memberEpoch: epoch } })
    c.owned = EMPTY
    c.pending = null
    this.clients.delete(c.memberId)
    return r
  }

  advance(ms: number) {
    this.nowMs += ms
    const e = expire(this.group, this.nowMs, this.topics)
    this.group = e.group
    this.records.push(...e.records)
    return e
  }

  /** Partition -> members owning it on the coordinator (assigned or pending revocation). */
  serverOwners(): Map<string, string[]> {
    const owners = new Map<string, string[]>()
    for (const [id, a] of this.group.current) {
      for (const tps of [a.assigned, a.pendingRevocation]) for (const [t, p] of entries(tps)) owners.set(`${t}-${p}`, [...(owners.get(`${t}-${p}`) ?? []), id])
    }
    return owners
  }

  /** Partition -> live clients consuming it (a client removed from the group is a zombie the coordinator no longer counts). */
  clientOwners(): Map<string, string[]> {
    const owners = new Map<string, string[]>()
    for (const c of this.clients.values()) {
      if (!this.group.members.has(c.memberId)) continue
      for (const [t, p] of entries(c.owned)) owners.set(`${t}-${p}`, [...(owners.get(`${t}-${p}`) ?? []), c.memberId])
    }
    return owners
  }

  replayed(): GroupState {
    return replayAll(emptyGroup(this.group.groupId), this.records)
  }
}

export const names = (...topicNames: string[]): Subscription => ({ topicNames, topicRegex: null })
export const pattern = (topicRegex: string): Subscription => ({ topicNames: [], topicRegex })
