// Limits and defaults of the `bitacora` command, with the reason for each.

/** produce: records sent but not yet acknowledged; the producer's own buffer bounds their bytes. */
export const PRODUCE_WINDOW_RECORDS = 4096

/**
 * produce --request-bytes-max: the smallest accepted (smaller requests only slow a producer
 * down) and the largest (the client's ceiling for an integer option; the broker's frame limit,
 * 17 MiB by default, refuses larger requests anyway).
 */
export const REQUEST_BYTES_MAX_FLAG_MIN = 1024
export const REQUEST_BYTES_MAX_FLAG_MAX = 0x7fffffff

/** The client config file is a handful of profiles: anything larger is a mistake. */
export const CLIENT_CONFIG_BYTES_MAX = 1024 * 1024

/**
 * consume --exit-at-end: how often the partitions' positions are compared with their end
 * offsets. Needed besides the check after each batch: a log may end in control batches, which
 * move a position without yielding a record.
 */
export const EXIT_AT_END_CHECK_MS = 100

/** produce: a stdin value quoted in an error is cut to this many characters. */
export const QUOTED_TEXT_CHARS_MAX = 40

/** perf consume --timeout-ms: Kafka's kafka-consumer-perf-test --timeout default (ms without a record). */
export const PERF_CONSUME_IDLE_MS_DEFAULT = 10_000

/**
 * How long a command keeps trying to make its first connection to a broker that refuses it (not
 * listening yet, or starting): long enough for `bitacora broker &` then a command, short enough
 * that a wrong address is one prompt error. And the pause between tries.
 */
export const CONNECT_WAIT_MS = 5_000
export const CONNECT_RETRY_MS = 100

/** topics reassign: how long it follows a move by default (a large partition's new replicas copy its whole log first), and how often it looks. */
export const REASSIGN_WAIT_MS_DEFAULT = 300_000
export const REASSIGN_POLL_MS = 500

/**
 * consume --group: what was printed is committed this often (Kafka's auto.commit.interval.ms),
 * besides on a rebalance and at exit.
 */
export const GROUP_COMMIT_INTERVAL_MS = 5_000

/**
 * consume --group: the exit's last commit waits at most this long (a coordinator out of reach
 * must not hold Ctrl-C); what it could not commit is read again by the group's next member.
 */
export const GROUP_EXIT_COMMIT_MS = 5_000
