// Replica placement over any cluster shape: distinct replicas, leaders and replicas spread
// evenly, racks spread when there are several.
import t from 'tap'
import fc from 'fast-check'
import { placeReplicas } from '../../../src/broker/controller/decisions/placement.js'
import { MetadataImage } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'

const spread = (counts: Map<number, number>, ids: number[]) => {
  const values = ids.map((id) => counts.get(id) ?? 0)
  return Math.max(...values) - Math.min(...values)
}
const count = (lists: number[][], pick: (l: number[]) => number[]) => {
  const counts = new Map<number, number>()
  for (const l of lists) for (const id of pick(l)) counts.set(id, (counts.get(id) ?? 0) + 1)
  return counts
}

t.test('without racks: distinct replicas; leaders and replicas within one of even', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 9 }), (brokerCount, partitions, rfWanted) => {
      const rf = Math.min(rfWanted, brokerCount)
      const brokers = Array.from({ length: brokerCount }, (_, i) => ({ brokerId: i * 3 + 1, rack: '' }))
      const ids = brokers.map((b) => b.brokerId)
      const placement = placeReplicas(MetadataImage.EMPTY, brokers, partitions, rf)
      t.equal(placement.length, partitions)
      for (const replicas of placement) {
        t.equal(new Set(replicas).size, rf, 'rf distinct brokers')
        t.ok(replicas.every((id) => ids.includes(id)), 'only the brokers given')
      }
      t.ok(spread(count(placement, (l) => [l[0]]), ids) <= 1, 'leaders even', { placement })
      t.ok(spread(count(placement, (l) => l), ids) <= 1, 'replicas even', { placement })
    }),
    { numRuns: 300 },
  )
})

t.test('with racks: every partition spans as many racks as it can; leaders even', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 9 }), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 5 }), (racks, partitions, rfWanted) => {
      const rf = Math.min(rfWanted, racks.length)
      const brokers = racks.map((rack, i) => ({ brokerId: i, rack }))
      const rackCount = new Set(racks).size
      const placement = placeReplicas(MetadataImage.EMPTY, brokers, partitions, rf)
      for (const replicas of placement) {
        t.equal(new Set(replicas.map((id) => racks[id])).size, Math.min(rf, rackCount), 'racks spread', { replicas, racks })
      }
      t.ok(spread(count(placement, (l) => [l[0]]), brokers.map((b) => b.brokerId)) <= 1, 'leaders even', { placement })
    }),
    { numRuns: 300 },
  )
})

t.test('a new topic goes to the brokers that hold the fewest replicas; ties to the lowest id', async (t) => {
  const id = (n: number) => n.toString(16).padStart(32, '0')
  const image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 'old', id: id(1), configs: {} }, [[1, 2], [2, 1], [1, 3]]))
  const brokers = [1, 2, 3, 4].map((brokerId) => ({ brokerId, rack: '' }))
  t.same(placeReplicas(image, brokers, 1, 2), [[4, 3]], 'broker 4 holds none, broker 3 one')
  t.same(placeReplicas(image, brokers, 4, 1), [[4], [3], [2], [1]], 'within a topic, evenness comes first')
  t.same(placeReplicas(MetadataImage.EMPTY, brokers, 1, 1), [[1]])
})
