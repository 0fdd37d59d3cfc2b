// InitProducerId (Request 37), without transactions: any broker answers from its block of
// producer ids (producer-ids.ts). No id given (-1): a new producer id at epoch 0, never handed out
// before, so no earlier instance needs fencing. A producer's current id and epoch: the same id
// at the next epoch (KIP-360), which the producer asks for itself after an error that left its
// sequences unknown; partition leaders then refuse the older epoch. An epoch at its int16 limit
// moves to a new id instead, at epoch 0. An id no broker was given (beyond the metadata's
// producer-id blocks) gets no epoch: INVALID_PRODUCER_ID_MAPPING (producer-id-issued.ts).
import type { MetadataImage } from '../../metadata/image.js'
import { ErrorCode, wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import { PRODUCER_EPOCH_MAX } from '../partition/producer-state.js'
import { ProducerIdError, type ProducerIds } from '../producer-ids.js'
import { unissuedProducerId, type WaitForImage } from './producer-id-issued.js'

/** The metadata image a bump's producer id is checked against (absent: not checked). */
export interface IssuedIds {
  readonly image: () => MetadataImage
  readonly waitForImage?: WaitForImage
}

export async function initProducerId(ids: Pick<ProducerIds, 'take'>, req: bitacora.IInitProducerIdRequest, issued?: IssuedIds): Promise<ResponseProps> {
  const producerId = Number(req.producerId ?? -1)
  const epoch = req.producerEpoch ?? -1
  if (producerId === -1 && epoch === -1) return fresh(ids)
  if (!Number.isSafeInteger(producerId) || producerId < 0 || epoch < 0 || epoch > PRODUCER_EPOCH_MAX) {
    return { error: wireError(ErrorCode.INVALID_REQUEST, `producer id ${producerId} with epoch ${epoch}: give both (to bump the epoch, epoch in [0, ${PRODUCER_EPOCH_MAX}]) or neither (-1, -1: a new id)`) }
  }
  const unissued = issued === undefined ? null : await unissuedProducerId(issued.image, issued.waitForImage, producerId)
  if (unissued !== null) return { error: unissued }
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
