import t from 'tap'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { murmur2, partitionForKey, StickyPartitioner } from '../../src/client/partitioner.js'

const require = createRequire(import.meta.url)
const createKafkajsPartitioner = require('kafkajs/src/producer/partitioners/default/index.js')
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js')

t.test('keys land where kafkajs DefaultPartitioner (Java-compatible) puts them: 10,000 keys', async (t) => {
  const theirs = createKafkajsPartitioner()
  const keys = fc.sample(fc.uint8Array({ maxLength: 64 }), { numRuns: 10_000, seed: 42 })
  let mismatches = 0
  for (const [i, key] of keys.entries()) {
    const partitions = [1, 3, 7, 12, 100][i % 5]
    const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({ partitionId: p, leader: 0 }))
    const expected = theirs({ topic: 't', partitionMetadata, message: { key: Buffer.from(key) } })
    if (partitionForKey(key, partitions) !== expected) mismatches++
  }
  t.equal(mismatches, 0)
})

t.test('murmur2 matches Kafka reference values and kafkajs on every tail length', async (t) => {
  // Values from Kafka's UtilsTest.testMurmur2.
  const reference: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ]
  for (const [s, h] of reference) t.equal(murmur2(new TextEncoder().encode(s)), h, s)
  for (let len = 0; len < 9; len++) {
    const key = Uint8Array.from({ length: len }, (_, i) => 200 + i)
    t.equal(murmur2(key), kafkajsMurmur2(Buffer.from(key)) | 0, `length ${len}`)
  }
})

t.test('sticky partitioner: one partition until its batch closes, then another', async (t) => {
  let seed = 1
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
  const sticky = new StickyPartitioner(random)
  const all = [0, 1, 2, 3]
  const first = sticky.partition('t', all)
  for (let i = 0; i < 100; i++) t.equal(sticky.partition('t', all), first)
  sticky.batchClosed('t', first, all)
  const second = sticky.partition('t', all)
  t.not(second, first, 'a closed batch moves keyless records elsewhere')
  t.equal(sticky.partition('t', [first]), first, 'when the sticky partition loses its leader, keyless records move to one that has one')
  t.throws(() => sticky.partition('t', []), RangeError)
  t.throws(() => partitionForKey(new Uint8Array(1), 0), RangeError)
})
