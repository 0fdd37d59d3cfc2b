import t from 'tap'
import { estimateRecordBytes, toRecordInput } from '../../src/client/records.js'
import { messageBytes } from '../../src/client/transport.js'
import { loadCodec } from '../../src/codec/index.js'

t.test('strings become UTF-8 once; headers as object or list; timestamp defaults to send time', async (t) => {
  const r = toRecordInput({ topic: 't', key: 'ключ', value: 'v', headers: { a: 'x', b: null } }, 1234)
  t.same([...r.key!], [...new TextEncoder().encode('ключ')])
  t.same(r.headers!.map((h) => [h.key, h.value && [...h.value]]), [['a', [120]], ['b', null]])
  t.equal(r.timestamp, 1234)
  const list = toRecordInput({ topic: 't', value: null, headers: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], timestamp: 5 }, 9)
  t.equal(list.headers!.length, 2, 'repeated header keys are kept, as Kafka allows')
  t.equal(list.key, null)
  t.equal(list.value, null)
  t.equal(list.timestamp, 5)
  t.throws(() => toRecordInput({ topic: '', value: 'x' }, 0), { code: 'INVALID_ARGUMENT' })
  t.throws(() => toRecordInput({ topic: 't' } as never, 0), { code: 'INVALID_ARGUMENT' })
})

t.test('the size estimate bounds the encoded size from above (batching by bytes never undercounts)', async (t) => {
  const codec = await loadCodec()
  const shapes = [
    { value: new Uint8Array(0) },
    { key: new Uint8Array(300), value: new Uint8Array(70_000), headers: [{ key: 'trace-é', value: new Uint8Array(40) }] },
    { key: null, value: null, headers: [{ key: '😀'.repeat(20), value: null }] },
  ]
  for (const shape of shapes) {
    const input = { ...shape, timestamp: 2 ** 40 }
    const encoded = codec.encodeBatch([input], { baseTimestamp: 0 })
    t.ok(estimateRecordBytes(input) >= encoded.length - 61, `estimate ${estimateRecordBytes(input)} >= ${encoded.length - 61}`)
    t.ok(estimateRecordBytes(input) <= encoded.length - 61 + 40, 'and is not wildly above it')
  }
})

t.test('binary WebSocket messages are read without copying; anything else is refused', async (t) => {
  const buf = new ArrayBuffer(8)
  t.equal(messageBytes(buf)!.buffer, buf)
  const view = new Uint8Array(buf, 2, 4)
  const bytes = messageBytes(view)!
  t.equal(bytes.byteOffset, 2)
  t.equal(bytes.length, 4)
  t.equal(messageBytes('text'), null)
  t.equal(messageBytes(undefined), null)
})
