// Maps failures below the protocol layer (codec, storage, replica) to wire errors.
import { CodecError } from '../../codec/index.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { StorageError } from '../../storage/index.js'
import { ReplicaError } from '../partition/replica-error.js'

export interface PartitionFailure {
  error: bitacora.IError
  leaderHint: number
}

export function toPartitionFailure(err: unknown): PartitionFailure {
  if (err instanceof ReplicaError) return { error: wireError(err.code, err.message), leaderHint: err.leaderHint ?? -1 }
  if (err instanceof CodecError) return { error: wireError(codecErrorCode(err), err.message), leaderHint: -1 }
  if (err instanceof StorageError) {
    if (err.code === 'INVALID_BATCH') {
      const cause = err.cause instanceof CodecError ? codecErrorCode(err.cause) : ErrorCode.INVALID_RECORD
      return { error: wireError(cause, err.message), leaderHint: -1 }
    }
    if (err.code === 'OFFSET_OUT_OF_RANGE') return { error: wireError(ErrorCode.OFFSET_OUT_OF_RANGE, err.message), leaderHint: -1 }
    if (err.code === 'BATCH_TOO_LARGE') return { error: wireError(ErrorCode.MESSAGE_TOO_LARGE, err.message), leaderHint: -1 }
    if (err.code === 'LOG_CLOSED') return { error: wireError(ErrorCode.NOT_LEADER_OR_FOLLOWER, err.message), leaderHint: -1 }
    return { error: wireError(ErrorCode.KAFKA_STORAGE_ERROR, err.message), leaderHint: -1 }
  }
  return { error: wireError(ErrorCode.UNKNOWN_SERVER_ERROR, (err as Error)?.message ?? String(err)), leaderHint: -1 }
}

function codecErrorCode(err: CodecError): ErrorCode {
  switch (err.code) {
    case 'BATCH_BAD_CRC':
      return ErrorCode.CORRUPT_MESSAGE
    case 'UNSUPPORTED_COMPRESSION':
      return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
    case 'BATCH_TOO_LARGE':
    case 'DECOMPRESSED_TOO_LARGE':
      return ErrorCode.MESSAGE_TOO_LARGE
    case 'BATCH_BAD_MAGIC':
      return ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT
    default:
      return ErrorCode.INVALID_RECORD
  }
}
