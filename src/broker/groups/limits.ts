// Named limits and defaults of consumer groups: the pure core (core/) and the coordinator shell.
// Session and rebalance timeouts are per member (a browser tab asks for more than a Node service).

/** A group id is at most this many UTF-16 code units (a key of __consumer_offsets; Kafka sets no bound, we do). */
export const GROUP_ID_CHARS_MAX = 255
/** A member id (a UUID the client draws) and an instance id are at most this long. */
export const MEMBER_ID_CHARS_MAX = 64
export const INSTANCE_ID_CHARS_MAX = 255
/** Client id, client host and rack as the coordinator keeps them for describe. */
export const CLIENT_FIELD_CHARS_MAX = 255
/** Members in one group (Kafka's group.consumer.max.size is unbounded; a bound keeps one group from eating the coordinator). */
export const MEMBERS_PER_GROUP_MAX = 1_000
/** Topic names in one subscription, and the length of a subscription pattern. */
export const SUBSCRIBED_TOPICS_MAX = 1_000
export const SUBSCRIPTION_PATTERN_CHARS_MAX = 1_000
/** Compiled subscription patterns the core keeps (a bounded memo; compiling again is only slower). */
export const COMPILED_PATTERNS_MAX = 1_000
/** Partitions one member may report owning, one commit may carry, one fetch may ask for. */
export const PARTITIONS_PER_REQUEST_MAX = 100_000
/** Offset commit metadata (Kafka's offset.metadata.max.bytes, counted in UTF-16 units here). */
export const OFFSET_METADATA_CHARS_MAX = 4_096

/**
 * Session timeout: a member not heard from for this long is removed and its partitions move.
 * Kafka's default (45 s) for Node members; a browser member asks for more than 60 s because a
 * background tab runs its timers about once a minute. The bounds keep a member from pinning its
 * partitions for hours, and from asking for a timeout a loaded 2-core machine cannot keep.
 */
export const SESSION_TIMEOUT_MS_DEFAULT = 45_000
export const SESSION_TIMEOUT_MS_MIN = 3_000
export const SESSION_TIMEOUT_MS_MAX = 300_000
/** How often members heartbeat (Kafka's group.consumer.heartbeat.interval.ms); the coordinator tells them. */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 5_000
/** A heartbeat interval is at most this share of the member's session timeout (three beats per session). */
export const HEARTBEAT_INTERVALS_PER_SESSION = 3
/**
 * Rebalance timeout: a member asked to revoke partitions that has not acknowledged within this is
 * removed from the group, which takes those partitions back (Kafka's max.poll.interval.ms default).
 */
export const REBALANCE_TIMEOUT_MS_DEFAULT = 300_000
export const REBALANCE_TIMEOUT_MS_MIN = 1_000
export const REBALANCE_TIMEOUT_MS_MAX = 1_800_000
/** The server-side assignors, the first the default (Kafka's group.consumer.assignors). */
export const ASSIGNORS = ['uniform', 'range'] as const
/** The balancing pass of the uniform assignor moves at most this many partitions per computation (it needs far fewer; a bound on the loop). */
export const UNIFORM_MOVES_MAX = 1_000_000
/** While a member reconciles (revoking, or waiting for a partition another member still owns) it heartbeats this often, so a handover takes a round trip, not a heartbeat interval. */
export const RECONCILING_HEARTBEAT_INTERVAL_MS = 500

// ---- __consumer_offsets and the coordinator shell

/** Partitions of __consumer_offsets (Kafka's offsets.topic.num.partitions is 50; a small cluster needs far fewer: each is a Raft group). */
export const OFFSETS_TOPIC_PARTITIONS_DEFAULT = 12
/** The most --offsets-topic-partitions allows: each partition is a Raft group every replica broker runs. */
export const OFFSETS_TOPIC_PARTITIONS_MAX = 1_000
/** Its replication factor (Kafka's offsets.topic.replication.factor), lower only on a smaller cluster. */
export const OFFSETS_TOPIC_REPLICATION_FACTOR_DEFAULT = 3
/** How long creating __consumer_offsets may take before the request that needed it answers COORDINATOR_NOT_AVAILABLE (the client retries). */
export const OFFSETS_TOPIC_CREATE_TIMEOUT_MS = 10_000
/** After a failed creation, the next try waits this long (requests meanwhile answer COORDINATOR_NOT_AVAILABLE at once). */
export const OFFSETS_TOPIC_CREATE_RETRY_MS = 1_000
/** A group write (heartbeat, commit, expiry) must commit within this, or the request answers REQUEST_TIMED_OUT. */
export const GROUP_WRITE_TIMEOUT_MS = 10_000
/** Requests waiting for one __consumer_offsets partition's turn (writes are serial per partition); more answer COORDINATOR_NOT_AVAILABLE (busy). */
export const COORDINATOR_QUEUED_MAX = 4_096
/** How often the coordinator looks for sessions and revocations that timed out. */
export const EXPIRY_CHECK_MS = 500
/** Groups named in one FindCoordinator, DescribeGroups or DeleteGroups request. */
export const GROUPS_PER_REQUEST_MAX = 1_000
