// Every bound of the chaos tool in one place: its proxy's buffers, its clients' pace, how long
// each check may wait.

/** Bytes one direction of one proxied connection holds (delayed or cut) before it pauses its source. */
export const PROXY_QUEUED_BYTES_MAX = 4 << 20

/** Faults a schedule holds (a run executes as many as its minutes allow). */
export const SCHEDULE_FAULTS_MAX = 1_000

/** How long a fault lasts before it is healed. */
export const FAULT_HOLD_MS = { min: 2_000, max: 8_000 } as const

/** Quiet time after healing a fault, before the next one. */
export const FAULT_GAP_MS = { min: 2_000, max: 6_000 } as const

/** Records per second the producer offers by default (it also waits for each batch of sends: see PRODUCER_IN_FLIGHT_MAX). */
export const PRODUCER_RECORDS_PER_S = 200
/** The most `--rate` may ask (long runs that need 100,000+ records in minutes; 3 nodes share 2 cores). */
export const PRODUCER_RECORDS_PER_S_MAX = 5_000

/** Sends one producer has unacknowledged at once (at higher rates: 100 ms of records). */
export const PRODUCER_IN_FLIGHT_MAX = 20

/** A send that is not acknowledged within this is counted as failed (it may still have been appended). */
export const PRODUCER_DELIVERY_TIMEOUT_MS = 30_000

/** After everything is healed, a new acks=all write to every partition must be acknowledged within this. */
export const HEAL_COMMIT_MS_MAX = 30_000

/** After healing: how long every node may take to answer Metadata alike, and replicas to agree below the HW. */
export const CONVERGE_MS_MAX = 60_000

/** How long the final read-back of every partition may take. */
export const READ_BACK_MS_MAX = 120_000

/** kill-leader: how long the nodes may take to name one leader of the partition (else the fault is skipped). */
export const LEADER_NAMED_MS_MAX = 10_000

/** A broker process must listen within this after a (re)start. */
export const RESTART_MS_MAX = 30_000

/** Violations printed in detail (the count is always exact). */
export const VIOLATIONS_SHOWN_MAX = 20
/** Produce requests in flight per broker in --idempotent mode (the idempotent producer's most). */
export const PRODUCER_IDEMPOTENT_IN_FLIGHT_MAX = 5
