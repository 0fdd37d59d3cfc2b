// BrokerRegistration (Request 31): a broker of the cluster registers with the active controller
// (controller/active/membership-service.ts), which answers once the registration is committed. Only on
// a peer connection, and only for the node that connection's handshake proved: no client, and
// no broker for another.
import { UUID_BYTES, uuidHex } from '../../metadata/uuid.js'
import { ErrorCode, wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import type { MembershipResult, MembershipService } from '../controller/active/membership-service.js'

/** What the membership APIs use of the controller. */
export type Membership = Pick<MembershipService, 'register' | 'heartbeat'>

export async function brokerRegistration(membership: Membership, req: bitacora.IBrokerRegistrationRequest, peer: number | null): Promise<ResponseProps> {
  const brokerId = req.brokerId ?? 0
  const refusal = membershipRefusal('register', brokerId, peer) ?? uuidRefusal('incarnation_id', req.incarnationId) ?? uuidRefusal('directory_id', req.directoryId)
  if (refusal !== null) return refusal
  const result = await membership.register({
    brokerId, incarnationId: uuidHex(req.incarnationId!), url: req.url ?? '', rack: req.rack ?? '', directoryId: uuidHex(req.directoryId!),
  })
  return membershipAnswer(result, (fenced) => ({ brokerRegistration: { fenced } }))
}

/** Why a membership request on this connection is refused, or null. */
export function membershipRefusal(what: string, brokerId: number, peer: number | null): ResponseProps | null {
  if (peer === null) {
    return { error: wireError(ErrorCode.POLICY_VIOLATION, `only a broker of this cluster may ${what} (a connection whose handshake carried \`peer\`); clients may not`) }
  }
  if (brokerId !== peer) {
    return { error: wireError(ErrorCode.INVALID_REQUEST, `node ${peer} may ${what} only itself, not broker ${brokerId}`) }
  }
  return null
}

export function uuidRefusal(field: string, bytes: Uint8Array | null | undefined): ResponseProps | null {
  const length = bytes?.length ?? 0
  return length === UUID_BYTES ? null : { error: wireError(ErrorCode.INVALID_REQUEST, `${field} must be a ${UUID_BYTES}-byte UUID, got ${length} bytes`) }
}

export function membershipAnswer(result: MembershipResult, body: (fenced: boolean) => ResponseProps): ResponseProps {
  return result.ok ? body(result.answer.fenced) : { error: wireError(result.error.code, result.error.message) }
}
