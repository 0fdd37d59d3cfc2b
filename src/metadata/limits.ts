// Bounds a metadata record must keep, checked when a record is replayed into the image (so a
// record from any writer, or from a corrupt log, is refused the same way).

/** Broker ids and partition indexes are protobuf int32s; leader epochs too. */
export const INT32_MAX = 2 ** 31 - 1
/** A broker's URL: generous for any host name, small enough that a metadata answer stays small. */
export const BROKER_URL_CHARS_MAX = 1024
/** A rack name (Kafka sets none; ours keeps Metadata answers bounded). */
export const RACK_CHARS_MAX = 255
/** Replicas of one partition: more than any placement asks for; bounds a record's size. */
export const REPLICAS_PER_PARTITION_MAX = 16
/** Producer ids are int64 on the wire and JS numbers here: exact below 2^53. */
export const PRODUCER_ID_MAX = Number.MAX_SAFE_INTEGER
/** Feature names and topic config keys and values. */
export const NAME_CHARS_MAX = 249
export const CONFIG_VALUE_CHARS_MAX = 4096
