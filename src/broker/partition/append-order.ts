// One connection's produce appends, per partition, in the order the requests arrived: a
// request's validation (CPU, possibly an asynchronous decompressor) runs at once, beside the
// others, and its append starts only once the connection's earlier appends to that partition
// have finished or failed. Ordering is per connection (what a producer relies on, as in Kafka);
// other connections and the replica's Raft inputs never wait behind this one's validation.
// Bounded by the connection's requests in flight (limits.inFlightRequestsMax).

import { KeyedSerial } from '../../storage/index.js'

export class AppendOrder {
  /** Per partition key, this connection's appends in arrival order. */
  private readonly queues = new KeyedSerial()

  /**
   * Runs `append` after every earlier append for `key` settled and `validated` resolved; fails
   * with the validation's error without appending when it rejects.
   */
  run<T>(key: string, validated: Promise<void>, append: () => Promise<T>): Promise<T> {
    // Observed now, so a rejection is never "unhandled" while this append waits its turn.
    const verdict = validated.then(() => null, (err: unknown) => ({ err }))
    return this.queues.run(key, async () => {
      const failed = await verdict
      if (failed !== null) throw failed.err
      return append()
    })
  }
}
