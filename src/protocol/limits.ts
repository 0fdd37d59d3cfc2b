// Protocol-wide limits and versions. Brokers announce theirs in the handshake.

export const PROTOCOL_VERSION = 1

/** Largest frame a broker accepts by default (the ws maxPayload): room for a 16 MiB batch. */
export const FRAME_BYTES_MAX_DEFAULT = 17 * 1024 * 1024

/** Requests one connection may have in flight before the broker answers TOO_MANY_IN_FLIGHT. */
export const IN_FLIGHT_REQUESTS_MAX_DEFAULT = 256
