// DescribeQuorum, AddVoter and RemoveVoter against a ControllerQuorum (the stand-in until the
// real quorum runs in a broker): what each answers, and each refusal's code and message.
import t from 'tap'
import { addVoter } from '../../../src/broker/api/add-voter.js'
import { describeQuorum } from '../../../src/broker/api/describe-quorum.js'
import { removeVoter } from '../../../src/broker/api/remove-voter.js'
import { ADD_VOTER_TIMEOUT_MS_DEFAULT, ADD_VOTER_TIMEOUT_MS_MAX } from '../../../src/broker/limits.js'
import type { BrokerImage } from '../../../src/metadata/image.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { QuorumStandIn } from './quorum-stand-in.js'

const VOTERS = new Map([[1, 'ws://127.0.0.1:9092/'], [2, 'ws://127.0.0.1:9093/'], [3, 'ws://127.0.0.1:9094/']])
const broker = (brokerId: number, fenced: boolean): BrokerImage => ({ brokerId, incarnationId: `i${brokerId}`, url: `ws://127.0.0.1:${9091 + brokerId}/`, rack: '', directoryId: `d${brokerId}`, fenced })

t.test('DescribeQuorum on the leader: positions of every replica, and the brokers with their fenced state', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 1, leaderEpoch: 7, highWatermark: 42 })
  quorum.observe(4, 'ws://127.0.0.1:9095/', 5)
  const answer = describeQuorum({ clusterId: 'c1', quorum, registeredBrokers: () => [broker(1, false), broker(4, true)] })
  t.strictSame(answer, {
    describeQuorum: {
      clusterId: 'c1', leaderId: 1, leaderEpoch: 7, highWatermark: 42,
      voters: [
        { nodeId: 1, url: 'ws://127.0.0.1:9092/', logEndOffset: 42, lastFetchMsAgo: 0, lag: 0 },
        { nodeId: 2, url: 'ws://127.0.0.1:9093/', logEndOffset: 42, lastFetchMsAgo: 120, lag: 0 },
        { nodeId: 3, url: 'ws://127.0.0.1:9094/', logEndOffset: 42, lastFetchMsAgo: 120, lag: 0 },
      ],
      observers: [{ nodeId: 4, url: 'ws://127.0.0.1:9095/', logEndOffset: 37, lastFetchMsAgo: 120, lag: 5 }],
      brokers: [
        { id: 1, url: 'ws://127.0.0.1:9092/', rack: '', fenced: false },
        { id: 4, url: 'ws://127.0.0.1:9095/', rack: '', fenced: true },
      ],
    },
  })
})

t.test('DescribeQuorum with no leader elected says -1', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 2, voters: VOTERS, leaderId: null })
  const answer = describeQuorum({ clusterId: 'c1', quorum, registeredBrokers: () => [] })
  t.ok('describeQuorum' in answer)
  if (!('describeQuorum' in answer)) return
  t.equal(answer.describeQuorum.leaderId, -1)
  t.strictSame(answer.describeQuorum.voters!.map((v) => v.lag), [-1, -1, -1], 'a follower does not know the others\' positions')
})

t.test('AddVoter on the controller: waits for the node to catch up, answers the new voter set', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 1 })
  quorum.observe(4, 'ws://127.0.0.1:9095/', 3)
  const pending = addVoter(quorum, { nodeId: 4, url: 'ws://127.0.0.1:9095', timeoutMs: 5_000 })
  setTimeout(() => quorum.observe(4, 'ws://127.0.0.1:9095/', 0), 20)
  t.strictSame(await pending, { addVoter: { voters: [1, 2, 3, 4] } })
  t.strictSame(quorum.addVoterCalls, [{ nodeId: 4, url: 'ws://127.0.0.1:9095/', timeoutMs: 5_000 }], 'the URL normalized')
})

t.test('AddVoter without a timeout gives the node the default time', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 1 })
  quorum.observe(4, 'ws://127.0.0.1:9095/', 0)
  await addVoter(quorum, { nodeId: 4, url: 'ws://127.0.0.1:9095/' })
  t.equal(quorum.addVoterCalls[0].timeoutMs, ADD_VOTER_TIMEOUT_MS_DEFAULT)
})

t.test('AddVoter refuses bad input before asking the quorum', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 1 })
  const cases: Array<[object, RegExp]> = [
    [{ nodeId: -1, url: 'ws://127.0.0.1:9095/' }, /^AddVoter: node id must be >= 0, got -1$/],
    [{ nodeId: 4, url: '' }, /^AddVoter: '' is not a URL; give the node's listener as ws:\/\/HOST:PORT\/$/],
    [{ nodeId: 4, url: '127.0.0.1:9095' }, /'127.0.0.1:9095' is not a URL/],
    [{ nodeId: 4, url: 'localhost:9095' }, /'localhost:9095' must be a ws:\/\/ or wss:\/\/ URL/],
    [{ nodeId: 4, url: 'http://127.0.0.1:9095/' }, /^AddVoter: 'http:\/\/127.0.0.1:9095\/' must be a ws:\/\/ or wss:\/\/ URL/],
    [{ nodeId: 4, url: 'ws://u:p@127.0.0.1:9095/' }, /no credentials, query or fragment/],
    [{ nodeId: 4, url: 'ws://127.0.0.1:9095/', timeoutMs: ADD_VOTER_TIMEOUT_MS_MAX + 1 }, new RegExp(`over the most a node may take to catch up, ${ADD_VOTER_TIMEOUT_MS_MAX} ms`)],
  ]
  for (const [request, message] of cases) {
    const answer = await addVoter(quorum, request)
    t.ok('error' in answer && answer.error.code === ErrorCode.INVALID_REQUEST, JSON.stringify(request))
    if ('error' in answer) t.match(answer.error.message, message)
  }
  t.equal(quorum.addVoterCalls.length, 0, 'the quorum was not asked')
})

t.test('AddVoter of a node that does not catch up in time: REQUEST_TIMED_OUT with the quorum\'s message', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 1 })
  const answer = await addVoter(quorum, { nodeId: 5, url: 'ws://127.0.0.1:9096/', timeoutMs: 30 })
  t.strictSame(answer, { error: { code: ErrorCode.REQUEST_TIMED_OUT, message: 'node 5 did not catch up within 30 ms; it stays an observer' } })
  t.strictSame([...quorum.voters.keys()], [1, 2, 3], 'the voters did not change')
})

t.test('a follower refuses changes with NOT_CONTROLLER naming the controller and its URL', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 2 })
  const add = await addVoter(quorum, { nodeId: 4, url: 'ws://127.0.0.1:9095/' })
  const remove = await removeVoter(quorum, { nodeId: 3 })
  for (const answer of [add, remove]) {
    t.strictSame(answer, { error: { code: ErrorCode.NOT_CONTROLLER, message: 'node 1 is not the active controller (the active controller is node 2 at ws://127.0.0.1:9093/)' } })
  }
  quorum.leaderId = null
  t.strictSame(await removeVoter(quorum, { nodeId: 3 }), {
    error: { code: ErrorCode.NOT_CONTROLLER, message: 'node 1 is not the active controller (no controller is elected right now; retry shortly)' },
  })
})

t.test('RemoveVoter: the new voter set; the last voter and non-voters refused with the quorum\'s message', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: new Map([[1, 'ws://127.0.0.1:9092/'], [2, 'ws://127.0.0.1:9093/']]), leaderId: 1 })
  t.strictSame(await removeVoter(quorum, { nodeId: 2 }), { removeVoter: { voters: [1] } })
  t.strictSame(await removeVoter(quorum, { nodeId: 1 }), { error: { code: ErrorCode.INVALID_REQUEST, message: 'node 1 is the last voter; a quorum needs one' } })
  t.strictSame(await removeVoter(quorum, { nodeId: 9 }), { error: { code: ErrorCode.INVALID_REQUEST, message: 'node 9 is not a voter' } })
  t.strictSame(await removeVoter(quorum, { nodeId: -2 }), { error: { code: ErrorCode.INVALID_REQUEST, message: 'RemoveVoter: node id must be >= 0, got -2' } })
})

t.test('a failure that is not a QuorumError is not dressed up: it reaches the session (logged, UNKNOWN_SERVER_ERROR)', async (t) => {
  const quorum = new QuorumStandIn({ nodeId: 1, voters: VOTERS, leaderId: 1 })
  quorum.removeVoter = () => Promise.reject(new TypeError('bug'))
  await t.rejects(removeVoter(quorum, { nodeId: 3 }), new TypeError('bug'))
})
