// Which connections may act as a peer broker (send raft frames, and later controller
// requests): those whose handshake carried `peer` with this broker's cluster id and another
// node's id, over a WebSocket upgrade without an Origin header. Browsers always send Origin, so
// no web page can pass, whatever it claims; clients never send `peer`. Authentication of the
// claim comes with the security work. Pure: the session acts on the verdict.
import { ErrorCode, type bitacora } from '../../protocol/index.js'
import type { NodeId } from '../../raft/types.js'

/** What a broker admits peers with (SessionOptions.peers); unset, it admits none. */
export interface PeerAdmissionOptions {
  readonly clusterId: string
  readonly nodeId: NodeId
}

export type PeerVerdict =
  | { readonly admitted: true; readonly nodeId: NodeId }
  | { readonly admitted: false; readonly code: ErrorCode; readonly reason: string }

const INT32_MAX = 0x7fffffff

export function admitPeer(
  own: PeerAdmissionOptions | undefined, peer: bitacora.PeerHandshake.$Properties, origin: string | undefined,
): PeerVerdict {
  if (origin !== undefined) {
    return { admitted: false, code: ErrorCode.POLICY_VIOLATION, reason: `peer handshake refused: a connection with an Origin header (${origin}) is a web page, never a broker` }
  }
  if (own === undefined) {
    return { admitted: false, code: ErrorCode.INVALID_REQUEST, reason: 'peer handshake refused: this broker is not part of a cluster (started without peers)' }
  }
  const clusterId = peer.clusterId ?? ''
  if (clusterId !== own.clusterId) {
    return { admitted: false, code: ErrorCode.INVALID_REQUEST, reason: `peer handshake refused: cluster id "${clusterId}" is not this broker's cluster "${own.clusterId}"` }
  }
  const nodeId = peer.nodeId ?? 0
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > INT32_MAX) {
    return { admitted: false, code: ErrorCode.INVALID_REQUEST, reason: `peer handshake refused: node id ${nodeId} is not an int32 >= 0` }
  }
  if (nodeId === own.nodeId) {
    return { admitted: false, code: ErrorCode.INVALID_REQUEST, reason: `peer handshake refused: node ${nodeId} is this broker itself (a peer URL points back at it)` }
  }
  return { admitted: true, nodeId }
}
