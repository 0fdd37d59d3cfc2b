import t from 'tap'
import fc from 'fast-check'
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { loadCodec } from '../../src/codec/index.js'
import { CRC_CHUNK_BYTES } from '../../src/codec/limits.js'
import { kafkajsCrc32c } from './oracle.js'

const codec = await loadCodec()

t.test('check value: crc32c("123456789") = 0xE3069283', async (t) => {
  t.equal(codec.crc32c(new TextEncoder().encode('123456789')), 0xe3069283)
  t.equal(codec.crc32c(new Uint8Array(0)), 0)
})

t.test('equals @node-rs/crc32 and kafkajs on random buffers of every alignment', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 0, max: 15 }), (data, skip) => {
      const part = data.subarray(Math.min(skip, data.length))
      const ours = codec.crc32c(part)
      return ours === nativeCrc32c(Buffer.from(part)) >>> 0 && ours === kafkajsCrc32c(Buffer.from(part)) >>> 0
    }),
    { numRuns: 500 },
  )
})

t.test('continues across calls and across its internal chunk size', async (t) => {
  const data = new Uint8Array(CRC_CHUNK_BYTES * 2 + 12345)
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
  const whole = nativeCrc32c(Buffer.from(data)) >>> 0
  t.equal(codec.crc32c(data), whole, 'one call over several chunks')
  const split = 777_777
  t.equal(codec.crc32c(data.subarray(split), codec.crc32c(data.subarray(0, split))), whole, 'two calls chained')
})
