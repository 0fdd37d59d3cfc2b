import t from 'tap'
import { BitacoraError, ClientError, errorFromWire, isErrorCode, isRetriableError } from '../../src/client/errors.js'
import { CodecError } from '../../src/codec/index.js'
import { ErrorCode } from '../../src/protocol/index.js'

t.test('wire errors map to BitacoraError with the table retriable flag', async (t) => {
  t.equal(errorFromWire(null), null)
  t.equal(errorFromWire(undefined), null)
  t.equal(errorFromWire({ code: ErrorCode.NONE, message: '' }), null)
  const notLeader = errorFromWire({ code: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: 'leader is 3' }, 'produce to t/0')!
  t.type(notLeader, BitacoraError)
  t.equal(notLeader.code, 'NOT_LEADER_OR_FOLLOWER')
  t.equal(notLeader.retriable, true)
  t.match(notLeader.message, /NOT_LEADER_OR_FOLLOWER: produce to t\/0: leader is 3/)
  const tooLarge = errorFromWire({ code: ErrorCode.MESSAGE_TOO_LARGE })!
  t.equal(tooLarge.retriable, false)
  t.match(tooLarge.message, /max\.message\.bytes/, 'an empty wire message falls back to the table text')
  t.ok(isErrorCode(tooLarge, 'MESSAGE_TOO_LARGE'))
  t.notOk(isErrorCode(new Error('x'), 'MESSAGE_TOO_LARGE'))
})

t.test('every retriable code in the table is retried; none of the others', async (t) => {
  const retriable = ['CORRUPT_MESSAGE', 'UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER',
    'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'KAFKA_STORAGE_ERROR',
    'UNKNOWN_TOPIC_ID', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'OFFSET_NOT_AVAILABLE', 'THROTTLING_QUOTA_EXCEEDED',
    'TOO_MANY_IN_FLIGHT', 'NOT_CONTROLLER', 'PREFERRED_LEADER_NOT_AVAILABLE',
    // Consumer groups: the coordinator is moving or loading; a commit at an older epoch goes again after a heartbeat.
    'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'STALE_MEMBER_EPOCH']
  for (const [name, code] of Object.entries(ErrorCode)) {
    if (typeof code !== 'number' || code === 0) continue
    t.equal(isRetriableError(errorFromWire({ code })), retriable.includes(name), name)
  }
})

t.test('client-side errors carry a stable code, retriable flag and cause', async (t) => {
  const cause = new Error('ECONNREFUSED')
  const err = new ClientError('CONNECTION_FAILED', 'cannot connect to ws://x', { cause })
  t.equal(err.code, 'CONNECTION_FAILED')
  t.equal(err.retriable, true)
  t.equal(err.cause, cause)
  t.equal(err.name, 'ClientError')
  t.ok(isRetriableError(new ClientError('REQUEST_TIMEOUT', 't')))
  t.notOk(isRetriableError(new ClientError('CLIENT_CLOSED', 't')))
  t.notOk(isRetriableError(new ClientError('REQUEST_TOO_LARGE', 't')))
  t.notOk(isRetriableError(new ClientError('CONNECTION_REFUSED', 't')), 'a refused origin: retrying cannot help')
  t.ok(isRetriableError(new ClientError('NO_BROKER_AVAILABLE', 't')))
  t.ok(isRetriableError(new ClientError('DELIVERY_TIMEOUT', 't')), "as Kafka's TimeoutException")
  t.notOk(isRetriableError(new CodecError('BATCH_BAD_CRC', 'bad')), 'codec errors are final')
  t.notOk(isRetriableError('string'))
})
