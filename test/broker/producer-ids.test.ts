// A broker's producer ids: blocks asked of the controller one at a time, ids never repeated;
// InitProducerId's answers (a new id, a KIP-360 bump, bad input, an id no block holds).
import t from 'tap'
import { ErrorCode, type bitacora, type ResponseProps } from '../../src/protocol/index.js'
import { initProducerId } from '../../src/broker/api/init-producer-id.js'
import { ProducerIds } from '../../src/broker/producer-ids.js'
import { PRODUCER_ID_IMAGE_WAIT_MS } from '../../src/broker/limits.js'
import { MetadataImage } from '../../src/metadata/image.js'

function controller(blocks: Array<ResponseProps>) {
  const asked: bitacora.IAllocateProducerIdsRequest[] = []
  return {
    asked,
    ask: async (body: bitacora.IAllocateProducerIdsRequest): Promise<ResponseProps> => {
      asked.push(body)
      await new Promise((resolve) => setImmediate(resolve))
      return blocks.shift() ?? { error: { code: ErrorCode.NOT_CONTROLLER, message: 'no controller' } }
    },
  }
}

t.test('ids come from the block, the next block once it is used up; concurrent callers share one request', async (t) => {
  const c = controller([{ allocateProducerIds: { firstId: 1000, size: 2 } }, { allocateProducerIds: { firstId: 5000, size: 2 } }])
  const ids = new ProducerIds(3, () => new Uint8Array(16), c.ask)
  const first = await Promise.all([ids.take(), ids.take(), ids.take()])
  t.same(first.sort((a, b) => a - b), [1000, 1001, 5000])
  t.equal(c.asked.length, 2, 'one request per block')
  t.equal(c.asked[0].brokerId, 3)
  t.equal(await ids.take(), 5001)
})

t.test('no block to be had: a retriable error naming why; the next call asks again', async (t) => {
  const c = controller([{ error: { code: ErrorCode.BROKER_ID_NOT_REGISTERED, message: 'not registered yet' } }, { allocateProducerIds: { firstId: 7, size: 10 } }])
  const ids = new ProducerIds(1, () => new Uint8Array(16), c.ask)
  const refused = await initProducerId(ids, { producerId: -1, producerEpoch: -1 })
  t.equal(refused.error?.code, ErrorCode.LEADER_NOT_AVAILABLE)
  t.match(refused.error?.message, /not registered yet/)
  t.same(await initProducerId(ids, { producerId: -1, producerEpoch: -1 }), { initProducerId: { producerId: 7, producerEpoch: 0 } })
})

t.test('InitProducerId: a bump keeps the id; the last epoch moves to a new id; half an id is refused', async (t) => {
  const ids = new ProducerIds(1, () => new Uint8Array(16), controller([{ allocateProducerIds: { firstId: 100, size: 10 } }]).ask)
  t.same(await initProducerId(ids, { producerId: 42, producerEpoch: 3 }), { initProducerId: { producerId: 42, producerEpoch: 4 } })
  t.same(await initProducerId(ids, { producerId: 42, producerEpoch: 32767 }), { initProducerId: { producerId: 100, producerEpoch: 0 } })
  t.equal((await initProducerId(ids, { producerId: 42, producerEpoch: -1 })).error?.code, ErrorCode.INVALID_REQUEST)
  t.equal((await initProducerId(ids, { producerId: -5, producerEpoch: 0 })).error?.code, ErrorCode.INVALID_REQUEST)
})

t.test('InitProducerId: a bump of an id no block holds is refused once the image has had its chance to show the block', async (t) => {
  const ids = new ProducerIds(1, () => new Uint8Array(16), controller([]).ask)
  let image = MetadataImage.EMPTY.apply([{ type: 'producerIdBlock', brokerId: 1, firstId: 0, size: 100 }])
  const waits: number[] = []
  // The image moves on while the handler waits: the block of 100..199 lands (a lagging broker catching up).
  const waitForImage = async (shows: (i: MetadataImage) => boolean, ms: number) => {
    if (waits.push(ms) === 1) image = image.apply([{ type: 'producerIdBlock', brokerId: 2, firstId: 100, size: 100 }])
    return shows(image)
  }
  const issued = { image: () => image, waitForImage }
  t.same(await initProducerId(ids, { producerId: 99, producerEpoch: 0 }, issued), { initProducerId: { producerId: 99, producerEpoch: 1 } })
  t.same(waits, [], 'an id the image shows goes at once')
  t.same(await initProducerId(ids, { producerId: 150, producerEpoch: 2 }, issued), { initProducerId: { producerId: 150, producerEpoch: 3 } },
    'an id of a block the image shows only after a wait')
  t.equal(waits.length, 1)
  const forged = await initProducerId(ids, { producerId: 10_000, producerEpoch: 0 }, issued)
  t.equal(forged.error?.code, ErrorCode.INVALID_PRODUCER_ID_MAPPING, 'an id beyond every block')
  t.match(forged.error?.message, /producer id 10000 was never handed out/)
  t.ok(waits.every((ms) => ms === PRODUCER_ID_IMAGE_WAIT_MS), 'waits are bounded by the named limit')
})
