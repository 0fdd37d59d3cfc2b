import t from 'tap'
import fc from 'fast-check'
import {
  bitacora, BitacoraError, decodeRequest, decodeResponse, encodeRequest, encodeResponse, ErrorCode,
  FrameError, isRetriable, wireError,
} from '../../src/protocol/index.js'

const MAX = 1024 * 1024

t.test('a produce request round-trips with its record bytes untouched', async (t) => {
  const records = new Uint8Array([1, 2, 3, 250, 0, 7])
  const frame = encodeRequest({
    correlationId: 42,
    produce: { acks: -1, timeoutMs: 30000, topics: [{ name: 'events', partitions: [{ index: 3, records }] }] },
  })
  const req = decodeRequest(frame, MAX)
  t.equal(req.correlationId, 42)
  t.equal(req.api, 'produce')
  t.equal(req.produce!.acks, -1)
  t.same([...req.produce!.topics![0].partitions![0].records!], [...records])
})

t.test('int64 fields decode as JS numbers', async (t) => {
  const frame = encodeResponse({
    correlationId: 1,
    produce: { topics: [{ name: 'a', partitions: [{ index: 0, baseOffset: 2 ** 52 + 1, logStartOffset: -1 }] }] },
  })
  const p = decodeResponse(frame, MAX).produce!.topics![0].partitions![0]
  t.equal(p.baseOffset, 2 ** 52 + 1)
  t.equal(p.logStartOffset, -1)
})

t.test('oversized frames are refused before decoding', async (t) => {
  const frame = encodeRequest({ correlationId: 1, metadata: { topics: ['x'.repeat(2000)] } })
  t.throws(() => decodeRequest(frame, 1000), { name: 'FrameError', code: ErrorCode.FRAME_TOO_LARGE })
})

t.test('random bytes give a typed FrameError or a valid request, nothing else', async (t) => {
  let malformed = 0
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeRequest(bytes, MAX)
        return true
      } catch (err) {
        if (err instanceof FrameError) {
          malformed++
          return err.code === ErrorCode.MALFORMED_FRAME || err.code === ErrorCode.INVALID_REQUEST
        }
        return false
      }
    }),
    { numRuns: 3000 },
  )
  t.ok(malformed > 0, `${malformed} random frames refused with a typed error`)
})

t.test('a request without an API is INVALID_REQUEST', async (t) => {
  t.throws(() => decodeRequest(encodeRequest({ correlationId: 5 }), MAX), { code: ErrorCode.INVALID_REQUEST })
})

t.test('the error table covers every code, with retriable flags and messages', async (t) => {
  const codes = Object.values(bitacora.ErrorCode).filter((v): v is number => typeof v === 'number')
  t.ok(codes.length > 30)
  for (const code of codes) t.ok(wireError(code).message!.length > 0, `${bitacora.ErrorCode[code]} has a message`)
  t.equal(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER), true)
  t.equal(isRetriable(ErrorCode.OFFSET_NOT_AVAILABLE), true)
  t.equal(isRetriable(ErrorCode.CORRUPT_MESSAGE), true, 'as in Kafka: a corrupted transfer may succeed when resent')
  t.equal(isRetriable(ErrorCode.INVALID_RECORD), false)
  const err = new BitacoraError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no topic "x"')
  t.equal(err.code, 'UNKNOWN_TOPIC_OR_PARTITION')
  t.equal(err.retriable, true)
  t.match(err.message, /UNKNOWN_TOPIC_OR_PARTITION: no topic "x"/)
})
