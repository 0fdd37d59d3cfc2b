import t from 'tap'
import { Backoff, RetryPolicy } from '../../src/client/backoff.js'
import { BitacoraError, ClientError } from '../../src/client/errors.js'
import { ErrorCode } from '../../src/protocol/index.js'

t.test('exponential delays, jittered within ±jitter, capped at maxMs', async (t) => {
  const low = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.2 }, () => 0)
  const mid = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.2 }, () => 0.5)
  const high = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.2 }, () => 0.999999)
  t.same([0, 1, 2, 3].map((a) => mid.delayMs(a)), [100, 200, 400, 800])
  t.same([0, 1, 2, 3].map((a) => low.delayMs(a)), [80, 160, 320, 640])
  t.same([0, 1, 2].map((a) => high.delayMs(a)), [120, 240, 480])
  t.equal(high.delayMs(3), 960)
  t.equal(high.delayMs(4), 1000, 'jitter never pushes past the cap')
  t.equal(low.delayMs(10), 800, 'at the cap, jitter still spreads clients out')
  t.equal(mid.delayMs(10_000), 1000, 'a long outage does not overflow')
})

t.test('jitter spreads delays across its whole range', async (t) => {
  let seed = 7
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const b = new Backoff({ initialMs: 1000, maxMs: 10_000, jitter: 0.2 }, random)
  const delays = Array.from({ length: 500 }, () => b.delayMs(0))
  t.ok(Math.min(...delays) >= 800 && Math.max(...delays) <= 1200)
  t.ok(Math.max(...delays) - Math.min(...delays) > 300, 'not lock-step')
})

t.test('bad settings are refused', async (t) => {
  const refused = (name: string) => ({ code: 'INVALID_ARGUMENT', message: new RegExp(`option ${name} must be`) })
  t.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), refused('maxMs'))
  t.throws(() => new Backoff({ initialMs: -1 }), refused('initialMs'))
  t.throws(() => new Backoff({ maxMs: 2 ** 40 }), refused('maxMs'), 'past what a timer can wait')
  t.throws(() => new Backoff({ multiplier: 0.5 }), refused('multiplier'))
  t.throws(() => new Backoff({ jitter: 2 }), refused('jitter'))
  t.throws(() => new RetryPolicy({ retries: -1 }), refused('retries'))
  t.throws(() => new RetryPolicy({ retries: 1.5 }), refused('retries'))
  t.throws(() => new RetryPolicy({ retries: '3' as unknown as number }), refused('retries'))
})

t.test('retry policy: only retriable errors, a bounded number of times, before the deadline', async (t) => {
  const policy = new RetryPolicy({ retries: 2, initialMs: 100, maxMs: 1000, jitter: 0 }, () => 0.5)
  const notLeader = new BitacoraError(ErrorCode.NOT_LEADER_OR_FOLLOWER)
  t.equal(policy.nextDelayMs(notLeader, 1, 0), 100)
  t.equal(policy.nextDelayMs(notLeader, 2, 0), 200)
  t.equal(policy.nextDelayMs(notLeader, 3, 0), null, 'out of retries')
  t.equal(policy.nextDelayMs(new BitacoraError(ErrorCode.MESSAGE_TOO_LARGE), 1, 0), null, 'not retriable')
  t.equal(policy.nextDelayMs(new ClientError('REQUEST_TIMEOUT', 'x'), 1, 0), 100)
  t.equal(policy.nextDelayMs(new ClientError('BUFFER_FULL', 'x'), 1, 0), null)
  t.equal(policy.nextDelayMs(new Error('plain'), 1, 0), null, 'unknown errors are not retried')
  t.equal(policy.nextDelayMs(notLeader, 1, 950, 1000), null, 'the retry would start past the deadline')
  t.equal(policy.nextDelayMs(notLeader, 1, 850, 1000), 100)
})
