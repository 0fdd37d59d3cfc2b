// One connection's produce appends, per partition, in the order the requests arrived: a
// request's validation (CPU, possibly an asynchronous decompressor) runs at once, beside the
// others, and its append starts only once the connection's earlier appends to that partition
// have finished or failed. Ordering is per connection (what a producer relies on, as in Kafka);
// other connections and the replica's Raft inputs never wait behind this one's validation.
// Bounded by the connection's requests in flight (limits.inFlightRequestsMax).

export class AppendOrder {
  /** Per partition key, the last append queued on this connection (settles, never rejects). */
  private readonly tails = new Map<string, Promise<void>>()

  /**
   * Runs `append` after every earlier append for `key` settled and `validated` resolved; fails
   * with the validation's error without appending when it rejects.
   */
  run<T>(key: string, validated: Promise<void>, append: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    // Observed now, so a rejection is never "unhandled" while this append waits its turn.
    const verdict = validated.then(() => null, (err: unknown) => ({ err }))
    const result = previous.then(() => verdict).then((failed) => {
      if (failed !== null) throw failed.err
      return append()
    })
    const tail = result.then(settled, settled)
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }
}

function settled(): void {}
