// The producer ids this broker hands out (InitProducerId): a block the active controller
// allocated to it (AllocateProducerIds), used up one id per call, then the next block. One
// request for a block at a time; callers meanwhile wait for it. Blocks are never reused: a
// restarted broker asks for a new one (ids are plentiful: 2^53).
import { ErrorCode, wireError, type bitacora, type ResponseProps } from '../protocol/index.js'
import { PRODUCER_ID_BLOCK_WAIT_MS } from './limits.js'

/** How a block is asked for: the controller channel's send (net/controller-channel.ts). */
export type AskController = (body: bitacora.IAllocateProducerIdsRequest, timeoutMs: number) => Promise<ResponseProps>

export class ProducerIdError extends Error {
  constructor(readonly error: bitacora.IError) {
    super(error.message ?? '')
  }
}

export class ProducerIds {
  private next = 0
  private end = 0
  private asking: Promise<void> | null = null

  constructor(
    private readonly brokerId: number,
    private readonly incarnationId: () => Uint8Array,
    private readonly ask: AskController,
  ) {}

  /** A producer id never handed out before; rejects with a ProducerIdError (retriable codes) when no block can be had. */
  async take(): Promise<number> {
    while (this.next >= this.end) {
      this.asking ??= this.askBlock().finally(() => {
        this.asking = null
      })
      await this.asking
    }
    return this.next++
  }

  private async askBlock(): Promise<void> {
    const response = await this.ask({ brokerId: this.brokerId, incarnationId: this.incarnationId() }, PRODUCER_ID_BLOCK_WAIT_MS)
    const block = response.allocateProducerIds
    if (response.error != null && response.error.code !== ErrorCode.NONE) {
      // The controller's refusal (not registered yet, ids exhausted) or the channel's (no controller in time).
      throw new ProducerIdError(wireError(ErrorCode.LEADER_NOT_AVAILABLE, `no block of producer ids from the controller: ${response.error.message}; retry`))
    }
    if (block == null || !Number.isSafeInteger(block.firstId) || (block.size ?? 0) <= 0) {
      throw new ProducerIdError(wireError(ErrorCode.UNKNOWN_SERVER_ERROR, 'the controller answered AllocateProducerIds without a block'))
    }
    this.next = Number(block.firstId)
    this.end = this.next + block.size!
  }
}
