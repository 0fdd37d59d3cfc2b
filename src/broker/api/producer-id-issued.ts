// Producer ids are checked against the blocks the controller handed out (the producerIdBlock
// records of the metadata log): an id beyond the last block was never given to any producer,
// so a batch or an epoch bump naming it is forged and refused with INVALID_PRODUCER_ID_MAPPING
// (Kafka's code for an id not assigned to its producer; not retriable: no retry or bump can make
// it valid, unlike UNKNOWN_PRODUCER_ID, which tells a real producer to re-initialise). The image
// may lag the block's commit by a heartbeat, so an id beyond it waits a bounded time first.
import type { MetadataImage } from '../../metadata/image.js'
import { ErrorCode, wireError, type bitacora } from '../../protocol/index.js'
import { PRODUCER_ID_IMAGE_WAIT_MS } from '../limits.js'

/** Resolves true once this broker's image satisfies `shows`, false after `timeoutMs`. */
export type WaitForImage = (shows: (image: MetadataImage) => boolean, timeoutMs: number) => Promise<boolean>

/** Null when `producerId` lies in a block handed out (at once if the image shows it), else the refusal. */
export async function unissuedProducerId(
  image: () => MetadataImage, waitForImage: WaitForImage | undefined, producerId: number,
): Promise<bitacora.IError | null> {
  const issued = (i: MetadataImage) => producerId < i.nextProducerId
  if (issued(image())) return null
  if (waitForImage !== undefined && (await waitForImage(issued, PRODUCER_ID_IMAGE_WAIT_MS))) return null
  return wireError(ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    `producer id ${producerId} was never handed out (the blocks end before ${image().nextProducerId}); nothing appended: get a producer id from InitProducerId`)
}
