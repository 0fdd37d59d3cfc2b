// The membership service over an in-memory metadata quorum (membership-service-log.ts): answers
// come only once committed; leases run out into fencing, on real timers (a lease of 3 s);
// a newly elected controller fences no one before a full lease of its own; a controller that
// loses its place or cannot commit in time says so.
import t, { type Test } from 'tap'
import { MembershipService, type MembershipResult } from '../../../src/broker/controller/active/membership-service.js'
import type { Logger } from '../../../src/broker/log.js'
import { errorName } from '../../../src/protocol/index.js'
import { waitFor } from '../net/peer-node.js'
import { MEMBERSHIP_TEST_CONFIG, MemoryMetadataQuorum } from './membership-service-log.js'

const LEASE_MS = MEMBERSHIP_TEST_CONFIG.leaseMs
const hex = (n: number) => n.toString(16).padStart(32, '0')

interface Line { readonly msg: string; readonly fields: Record<string, unknown> }

function service(t: Test, quorum: MemoryMetadataQuorum, node: number, answerTimeoutMs?: number) {
  const lines: Line[] = []
  const push = (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ msg, fields })
  const log: Logger = { info: push, warn: push, error: push }
  const s = new MembershipService({ controller: quorum.view(node), log, answerTimeoutMs })
  t.teardown(() => s.close())
  return { service: s, lines }
}

const registration = (brokerId: number, incarnation = brokerId, directory = brokerId) => ({
  brokerId, incarnationId: hex(100 + incarnation), url: `ws://127.0.0.1:${9090 + brokerId}/`, rack: '', directoryId: hex(200 + directory),
})
const beat = (quorum: MemoryMetadataQuorum, brokerId: number, incarnation = brokerId) => ({ brokerId, incarnationId: hex(100 + incarnation), metadataOffset: quorum.highWatermark })
const outcome = (r: MembershipResult) => (r.ok ? (r.answer.fenced ? 'fenced' : 'unfenced') : `${errorName(r.error.code)}: ${r.error.message}`)

/** Registers and unfences `brokerId` with the active controller `s`. */
async function join(s: MembershipService, quorum: MemoryMetadataQuorum, brokerId: number): Promise<void> {
  if (outcome(await s.register(registration(brokerId))) !== 'fenced') throw new Error('registration failed')
  if (outcome(await s.heartbeat(beat(quorum, brokerId))) !== 'unfenced') throw new Error('not unfenced')
}

t.test('a registration is answered once committed (fenced); a heartbeat past the catch-up offset unfences, once committed', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.autoCommit = false
  quorum.elect(1)
  const { service: s } = service(t, quorum, 1)
  let answer: MembershipResult | null = null
  void s.register(registration(5)).then((r) => (answer = r))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(answer, null, 'not answered while the registration is uncommitted')
  quorum.commit()
  await waitFor(() => answer !== null, 'the answer')
  t.equal(outcome(answer!), 'fenced', 'a new broker starts fenced')
  t.match(quorum.committedOf('brokerRegistration'), [{ brokerId: 5, url: 'ws://127.0.0.1:9095/' }])

  // Behind the registration record: still fenced, and nothing to commit.
  t.equal(outcome(await s.heartbeat({ ...beat(quorum, 5), metadataOffset: 0 })), 'fenced')
  let unfenced: MembershipResult | null = null
  void s.heartbeat(beat(quorum, 5)).then((r) => (unfenced = r))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(unfenced, null, 'not answered while the unfence record is uncommitted')
  quorum.commit()
  await waitFor(() => unfenced !== null, 'the answer')
  t.equal(outcome(unfenced!), 'unfenced')
  t.equal(quorum.committed.broker(5)?.fenced, false)
})

t.test('a heartbeat that causes no record still waits for what was appended before it', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const { service: s } = service(t, quorum, 1)
  await join(s, quorum, 5)
  quorum.autoCommit = false
  void s.register(registration(6)) // appended, not committed
  let answer: MembershipResult | null = null
  void s.heartbeat(beat(quorum, 5)).then((r) => (answer = r))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(answer, null, 'it would otherwise rest on an uncommitted registration')
  quorum.commit()
  await waitFor(() => answer !== null, 'the answer')
  t.equal(outcome(answer!), 'unfenced')
})

t.test('a node that is not the active controller answers NOT_CONTROLLER', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const { service: s } = service(t, quorum, 2)
  t.match(outcome(await s.register(registration(5))), /^NOT_CONTROLLER: node 2 is not the active controller \(the controller is 1\)$/)
})

t.test('a second live process under one id is refused DUPLICATE_BROKER_REGISTRATION; the same process again is not', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const { service: s } = service(t, quorum, 1)
  await join(s, quorum, 5)
  t.match(outcome(await s.register(registration(5, 6, 7))), /^DUPLICATE_BROKER_REGISTRATION: broker 5 is registered by a live process/)
  t.equal(outcome(await s.register(registration(5))), 'unfenced', 'a retry of the same registration changes nothing')
})

t.test('a broker shutting down (wantShutDown) is fenced at once, its lease ended: another directory may take its id, and it registers afresh', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const { service: s } = service(t, quorum, 1)
  await join(s, quorum, 5)
  await join(s, quorum, 6)
  const asked = Date.now()
  t.equal(outcome(await s.heartbeat({ ...beat(quorum, 5), wantShutDown: true })), 'fenced')
  t.ok(Date.now() - asked < LEASE_MS / 2, 'answered long before its lease would have run out')
  t.equal(quorum.committed.broker(5)?.fenced, true, 'fenced in the committed image, for every node to answer')
  t.equal(quorum.committed.broker(6)?.fenced, false, 'the others are not')
  t.equal(outcome(await s.register(registration(5, 7, 8))), 'fenced', 'its id is free at once for a process on another directory')
  t.equal(outcome(await s.heartbeat({ ...beat(quorum, 5, 7), wantShutDown: true })), 'fenced', 'a shutdown of a fenced broker appends nothing and stays fenced')
})

t.test('a broker that stops heartbeating is fenced when its lease runs out, not before; one that heartbeats is not', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const { service: s, lines } = service(t, quorum, 1)
  await join(s, quorum, 5)
  await join(s, quorum, 6)
  const beating = setInterval(() => void s.heartbeat(beat(quorum, 5)), 500)
  t.teardown(() => clearInterval(beating))
  await s.heartbeat(beat(quorum, 6))
  const lastBeat = Date.now()
  await waitFor(() => quorum.committed.broker(6)?.fenced === true, 'broker 6 fenced', LEASE_MS + 5_000)
  const afterMs = Date.now() - lastBeat
  t.ok(afterMs >= LEASE_MS - 20 && afterMs < LEASE_MS + 1_500, `a lease after its last heartbeat (${afterMs} ms)`)
  t.equal(quorum.committed.broker(5)?.fenced, false, 'the broker that heartbeats is not fenced')
  t.match(lines, [{ msg: 'brokers fenced: their lease ran out', fields: { brokers: [6] } }])
  t.equal(outcome(await s.heartbeat(beat(quorum, 6))), 'unfenced', 'it is unfenced again by its next heartbeat, caught up')
})

t.test('a newly elected controller gives every broker a fresh lease before fencing anyone', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const one = service(t, quorum, 1)
  const two = service(t, quorum, 2)
  await join(one.service, quorum, 5)
  const lastBeat = Date.now()
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS - 1_000))
  quorum.elect(2) // node 2 never heard broker 5
  const electedAt = Date.now()
  await waitFor(() => quorum.committed.broker(5)?.fenced === true, 'broker 5 fenced by node 2', LEASE_MS + 5_000)
  const afterElectionMs = Date.now() - electedAt
  t.ok(afterElectionMs >= LEASE_MS - 20, `a full lease after the election (${afterElectionMs} ms), not a lease after its last heartbeat (${Date.now() - lastBeat} ms)`)
  t.equal(one.lines.length, 0, 'the old controller fenced no one once it was not active')
  t.match(two.lines, [{ msg: 'brokers fenced: their lease ran out', fields: { brokers: [5] } }])
})

t.test('an answer whose records do not commit in time is REQUEST_TIMED_OUT; one whose controller lost its place is NOT_CONTROLLER', async (t) => {
  const quorum = new MemoryMetadataQuorum()
  quorum.autoCommit = false
  quorum.elect(1)
  const { service: s } = service(t, quorum, 1, 300)
  const started = Date.now()
  t.match(outcome(await s.register(registration(5))), /^REQUEST_TIMED_OUT: the controller did not commit the answer within 300 ms/)
  t.ok(Date.now() - started < 2_000)
  const lost = s.register(registration(6))
  quorum.elect(2)
  t.match(outcome(await lost), /^NOT_CONTROLLER/)
  t.equal(quorum.committed.broker(6), undefined, 'its registration was lost with the old controller')
})
