// Every bound of the chaos tool in one place: its proxy's buffers, its clients' pace, how long
// each check may wait.

/** Bytes one direction of one proxied connection holds (delayed or cut) before it pauses its source. */
export const PROXY_QUEUED_BYTES_MAX = 4 << 20
