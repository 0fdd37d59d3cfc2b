// The errors the group core answers with: Kafka's names (and numbers, in proto/bitacora.proto's
// ErrorCode), each with a message that says what the member should do.

export type GroupErrorName =
  | 'INVALID_REQUEST' // 42: a field out of its bounds (the message names it)
  | 'INVALID_GROUP_ID' // 24: empty or too long
  | 'UNKNOWN_MEMBER_ID' // 25: the coordinator knows no such member (removed: join again with epoch 0)
  | 'FENCED_MEMBER_EPOCH' // 110: the member's epoch is not the coordinator's: it lost its partitions; join again with epoch 0
  | 'STALE_MEMBER_EPOCH' // 113: a commit at an older epoch than the member's current one: heartbeat, then commit again
  | 'UNRELEASED_INSTANCE_ID' // 111: another live member holds this instance id
  | 'UNSUPPORTED_ASSIGNOR' // 112: no such server-side assignor
  | 'INVALID_REGULAR_EXPRESSION' // 128: the subscription pattern is not valid RE2
  | 'GROUP_MAX_SIZE_REACHED' // 81
  | 'OFFSET_METADATA_TOO_LARGE' // 12
  | 'NON_EMPTY_GROUP' // 68: the group still has members
  | 'GROUP_ID_NOT_FOUND' // 69

export interface GroupError {
  readonly code: GroupErrorName
  readonly message: string
}

export const groupError = (code: GroupErrorName, message: string): GroupError => ({ code, message })
