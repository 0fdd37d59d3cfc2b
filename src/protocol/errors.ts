// The one error table: every ErrorCode with its retriable flag and a default message. Retry
// logic reads only `retriable`. Messages sent on the wire say what to do where that helps.
import { bitacora } from './pb.js'

export const ErrorCode = bitacora.ErrorCode
export type ErrorCode = bitacora.ErrorCode
export type ErrorName = keyof typeof bitacora.ErrorCode

interface ErrorInfo {
  retriable: boolean
  message: string
}

const TABLE: Record<ErrorName, ErrorInfo> = {
  NONE: { retriable: false, message: 'no error' },
  UNKNOWN_SERVER_ERROR: { retriable: false, message: 'the broker hit an unexpected error; see its log' },
  OFFSET_OUT_OF_RANGE: { retriable: false, message: 'the offset is outside the log; seek to earliest or latest' },
  CORRUPT_MESSAGE: { retriable: true, message: 'a record batch failed its CRC check' },
  UNKNOWN_TOPIC_OR_PARTITION: { retriable: true, message: 'this broker does not host that topic or partition' },
  INVALID_FETCH_SIZE: { retriable: false, message: 'the fetch size is invalid' },
  LEADER_NOT_AVAILABLE: { retriable: true, message: 'the partition has no leader right now (an election is under way)' },
  NOT_LEADER_OR_FOLLOWER: { retriable: true, message: 'this broker does not lead that partition; use the leader hint' },
  REQUEST_TIMED_OUT: { retriable: true, message: 'the request timed out' },
  MESSAGE_TOO_LARGE: { retriable: false, message: 'a record batch is larger than the topic allows (max.message.bytes)' },
  NETWORK_EXCEPTION: { retriable: true, message: 'the connection failed' },
  INVALID_TOPIC_EXCEPTION: { retriable: false, message: 'the topic name is invalid' },
  RECORD_LIST_TOO_LARGE: { retriable: false, message: 'the records of one partition exceed the request limit' },
  NOT_ENOUGH_REPLICAS: { retriable: true, message: 'too few in-sync replicas to accept acks=all' },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { retriable: true, message: 'appended, but too few replicas confirmed in time' },
  INVALID_REQUIRED_ACKS: { retriable: false, message: 'acks must be 0, 1 or -1 (all)' },
  INVALID_TIMESTAMP: { retriable: false, message: 'a record timestamp is out of the accepted range' },
  UNSUPPORTED_VERSION: { retriable: false, message: 'the protocol version is not supported by this broker' },
  TOPIC_ALREADY_EXISTS: { retriable: false, message: 'a topic with that name already exists' },
  INVALID_PARTITIONS: { retriable: false, message: 'the partition count is invalid' },
  INVALID_REPLICATION_FACTOR: { retriable: false, message: 'the replication factor is invalid for this cluster' },
  INVALID_REQUEST: { retriable: false, message: 'the request is invalid' },
  POLICY_VIOLATION: { retriable: false, message: 'the request violates a broker policy' },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { retriable: false, message: 'the producer sequence number has a gap' },
  DUPLICATE_SEQUENCE_NUMBER: { retriable: false, message: 'the batch is a duplicate of one already written' },
  INVALID_PRODUCER_EPOCH: { retriable: false, message: 'the producer epoch is older than the one the partition knows' },
  UNKNOWN_PRODUCER_ID: { retriable: false, message: 'the partition has no state for the producer id (expired?); re-initialise it' },
  INVALID_PRODUCER_ID_MAPPING: { retriable: false, message: 'no broker was ever given that producer id; get one from InitProducerId' },
  INVALID_CONFIG: { retriable: false, message: 'a configuration value is invalid' },
  UNSUPPORTED_FOR_MESSAGE_FORMAT: { retriable: false, message: 'only RecordBatch v2 (magic 2) is supported' },
  KAFKA_STORAGE_ERROR: { retriable: true, message: 'the broker could not read or write its log' },
  PREFERRED_LEADER_NOT_AVAILABLE: { retriable: true, message: 'the preferred replica cannot lead now (fenced, or not registered)' },
  ELECTION_NOT_NEEDED: { retriable: false, message: 'the preferred replica leads already' },
  UNKNOWN_TOPIC_ID: { retriable: true, message: 'no topic has that id' },
  FENCED_LEADER_EPOCH: { retriable: true, message: 'the leader epoch in the request is older than the current one' },
  UNKNOWN_LEADER_EPOCH: { retriable: true, message: 'the leader epoch in the request is newer than the broker knows' },
  UNSUPPORTED_COMPRESSION_TYPE: { retriable: false, message: 'the compression codec is not supported here' },
  OFFSET_NOT_AVAILABLE: { retriable: true, message: 'the new leader has not caught up its high watermark yet' },
  INVALID_RECORD: { retriable: false, message: 'a record batch is malformed' },
  THROTTLING_QUOTA_EXCEEDED: { retriable: true, message: 'a quota was exceeded; retry later' },
  MALFORMED_FRAME: { retriable: false, message: 'the frame is not a valid protobuf Request' },
  FRAME_TOO_LARGE: { retriable: false, message: 'the frame is larger than the broker accepts' },
  TOO_MANY_IN_FLIGHT: { retriable: true, message: 'too many requests in flight on this connection' },
  HANDSHAKE_REQUIRED: { retriable: false, message: 'send a handshake before any other request' },
  NOT_CONTROLLER: { retriable: true, message: 'this node is not the active controller; retry at the current one' },
  DUPLICATE_BROKER_REGISTRATION: { retriable: false, message: 'another live process is registered under this broker id; give this one another --id' },
  BROKER_ID_NOT_REGISTERED: { retriable: false, message: 'the controller knows no registration of this broker id and incarnation; register again' },
  INVALID_REPLICA_ASSIGNMENT: { retriable: false, message: 'the replica assignment is invalid (a broker named twice or not registered, or too many)' },
  REASSIGNMENT_IN_PROGRESS: { retriable: false, message: 'the partition is being reassigned already; wait for it, or cancel it first' },
  NO_REASSIGNMENT_IN_PROGRESS: { retriable: false, message: 'no reassignment of the partition is in progress' },
  // Consumer groups. A member answered UNKNOWN_MEMBER_ID or FENCED_MEMBER_EPOCH has lost its partitions: it stops consuming them and joins again with epoch 0.
  OFFSET_METADATA_TOO_LARGE: { retriable: false, message: 'the commit metadata is longer than the broker keeps' },
  INVALID_COMMIT_OFFSET_SIZE: { retriable: false, message: 'the commit is larger than one __consumer_offsets batch may be; commit fewer partitions at once' },
  COORDINATOR_LOAD_IN_PROGRESS: { retriable: true, message: 'the group coordinator is still loading the groups of its partition' },
  COORDINATOR_NOT_AVAILABLE: { retriable: true, message: 'no group coordinator yet (__consumer_offsets is being created, or its partition has no leader)' },
  NOT_COORDINATOR: { retriable: true, message: 'this broker does not coordinate the group; find its coordinator again' },
  INVALID_GROUP_ID: { retriable: false, message: 'the group id is empty or too long' },
  UNKNOWN_MEMBER_ID: { retriable: false, message: 'the group has no such member (it was removed); join again with epoch 0' },
  NON_EMPTY_GROUP: { retriable: false, message: 'the group still has members; stop them first' },
  GROUP_ID_NOT_FOUND: { retriable: false, message: 'no such group' },
  GROUP_MAX_SIZE_REACHED: { retriable: false, message: 'the group has as many members as it may have' },
  FENCED_MEMBER_EPOCH: { retriable: false, message: 'the member epoch is not the coordinator\'s: the member lost its partitions; join again with epoch 0' },
  UNRELEASED_INSTANCE_ID: { retriable: false, message: 'another live member holds this instance id' },
  UNSUPPORTED_ASSIGNOR: { retriable: false, message: 'no such server-side assignor (uniform, range)' },
  STALE_MEMBER_EPOCH: { retriable: true, message: 'the commit carries an older member epoch: heartbeat, then commit again' },
  INVALID_REGULAR_EXPRESSION: { retriable: false, message: 'the subscription pattern is not a valid RE2 pattern' },
}

export function errorName(code: ErrorCode): ErrorName {
  return (bitacora.ErrorCode[code] as unknown as ErrorName | undefined) ?? 'UNKNOWN_SERVER_ERROR'
}

export function isRetriable(code: ErrorCode): boolean {
  return TABLE[errorName(code)].retriable
}

export function defaultMessage(code: ErrorCode): string {
  return TABLE[errorName(code)].message
}

/** A wire error: the code, and a message that is never empty. */
export function wireError(code: ErrorCode, message?: string): bitacora.IError {
  return { code, message: message || defaultMessage(code) }
}

/** An error from the broker, as the client raises it. */
export class BitacoraError extends Error {
  override name = 'BitacoraError'
  readonly code: ErrorName
  readonly retriable: boolean
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const name = errorName(code)
    super(`${name}: ${message || defaultMessage(code)}`, options)
    this.code = name
    this.retriable = isRetriable(code)
  }
}
