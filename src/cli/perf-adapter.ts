// What the perf runners need from a system under test, so that Bitácora and its peers run the
// very same workload code: a producer that acknowledges each record, and a consumer that reads
// a topic (or stream) from its start.

export interface PerfProducer {
  /** Sends one record; resolves when the system acknowledged it (per its durability mode). */
  send(value: Uint8Array): Promise<unknown>
  /** Resolves when everything sent so far is acknowledged. */
  flush(): Promise<void>
  close(): Promise<void>
}

export interface PerfConsumer {
  /**
   * Calls `onRecord` for each record from the start, in order, until stop() is called; resolves
   * after it stopped. A value is only valid during the call.
   */
  consume(onRecord: (value: Uint8Array) => void): Promise<void>
  stop(): void
}

/** Kafka's payload: random uppercase letters, made once and reused for every record. */
export function kafkaPayload(size: number, seed = 42): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = 65 + ((x >>> 0) % 26)
  }
  return out
}

/** Records in flight allowed for a record size: about `bytes` of payload, within [256, 200,000]. */
export function windowFor(recordSize: number, bytes = 32 * 1024 * 1024): number {
  return Math.max(256, Math.min(200_000, Math.floor(bytes / (recordSize + 64))))
}
