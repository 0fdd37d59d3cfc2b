// Handshake: the protocol version both sides speak, who this broker is, its APIs and limits.
import { bitacora, PROTOCOL_VERSION } from '../../protocol/index.js'
import type { BrokerLimits } from '../limits.js'
import { PRODUCER_BATCHES_KEPT } from '../partition/limits.js'

export interface HandshakeDeps {
  readonly brokerId: number
  readonly clusterId: string
  readonly limits: Pick<BrokerLimits, 'frameBytesMax' | 'inFlightRequestsMax'>
  /** The APIs this broker serves (the dispatch table's keys). */
  readonly apis: readonly string[]
}

export function handshake(deps: HandshakeDeps, req: bitacora.IHandshakeRequest): bitacora.IHandshakeResponse {
  return {
    protocolVersion: Math.min(req.protocolVersion || PROTOCOL_VERSION, PROTOCOL_VERSION),
    brokerId: deps.brokerId,
    clusterId: deps.clusterId,
    apis: deps.apis.map((api) => ({ api, minVersion: 1, maxVersion: 1 })),
    maxFrameBytes: deps.limits.frameBytesMax,
    maxInFlightRequests: deps.limits.inFlightRequestsMax,
    producerBatchesRemembered: PRODUCER_BATCHES_KEPT,
  }
}
