// InitProducerId (Request 37), without transactions: any broker answers from its block of
// producer ids (producer-ids.ts). No id given (-1): a new producer id at epoch 0, never handed out
// before, so no earlier instance needs fencing. A producer's current id and epoch: the same id
// at the next epoch (KIP-360), which the producer asks for itself after an error that left its
// sequences unknown; partition leaders then refuse the older epoch. An epoch at its int16 limit
// moves to a new id instead, at epoch 0.
import { ErrorCode, wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import { PRODUCER_EPOCH_MAX } from '../partition/producer-state.js'
import { ProducerIdError, type ProducerIds } from '../producer-ids.js'

export async function initProducerId(ids: Pick<ProducerIds, 'take'>, req: bitacora.IInitProducerIdRequest): Promise<ResponseProps> {
  const producerId = Number(req.producerId ?? -1)
  const epoch = req.producerEpoch ?? -1
  if (producerId === -1 && epoch === -1) return fresh(ids)
  if (!Number.isSafeInteger(producerId) || producerId < 0 || epoch < 0 || epoch > PRODUCER_EPOCH_MAX) {
    return { error: wireError(ErrorCode.INVALID_REQUEST, `producer id ${producerId} with epoch ${epoch}: give both (to bump the epoch, epoch in [0, ${PRODUCER_EPOCH_MAX}]) or neither (-1, -1: a new id)`) }
  }
  if (epoch === PRODUCER_EPOCH_MAX) return fresh(ids)
  return { initProducerId: { producerId, producerEpoch: epoch + 1 } }
}

async function fresh(ids: Pick<ProducerIds, 'take'>): Promise<ResponseProps> {
  try {
    return { initProducerId: { producerId: await ids.take(), producerEpoch: 0 } }
  } catch (err) {
    if (err instanceof ProducerIdError) return { error: err.error }
    throw err
  }
}
