// A counted budget of bytes (the producer's buffer): acquire before buffering, release when
// the batch completes. Callers that find it full wait in FIFO order, at most `waitersMax` of
// them and each at most its timeout, so neither memory nor the wait queue grows without end.
import { ClientError } from './errors.js'

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout> | undefined
}

export class ByteBudget {
  private usedBytes = 0
  private readonly waiters: Waiter[] = []

  constructor(readonly capacityBytes: number, private readonly waitersMax: number) {
    if (!(capacityBytes > 0)) throw new RangeError('capacityBytes must be positive')
  }

  get used(): number {
    return this.usedBytes
  }

  get waiting(): number {
    return this.waiters.length
  }

  /** Takes `bytes` now if there is room and nobody waits ahead. */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.length > 0 || this.usedBytes + bytes > this.capacityBytes) return false
    this.usedBytes += bytes
    return true
  }

  /** Takes `bytes`, waiting up to `timeoutMs` for room. */
  acquire(bytes: number, timeoutMs: number): Promise<void> {
    if (bytes > this.capacityBytes) {
      return Promise.reject(new ClientError('RECORD_TOO_LARGE', `a record of about ${bytes} bytes can never fit the ${this.capacityBytes}-byte producer buffer`))
    }
    if (this.tryAcquire(bytes)) return Promise.resolve()
    if (this.waiters.length >= this.waitersMax) {
      return Promise.reject(new ClientError('BUFFER_FULL', `producer buffer is full and ${this.waiters.length} sends already wait`))
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, timer: undefined }
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        reject(new ClientError('BUFFER_FULL', `producer buffer stayed full for ${timeoutMs} ms (maxBlockMs)`))
        this.wake() // the next waiter may be small enough to fit
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  release(bytes: number): void {
    this.usedBytes -= bytes
    if (this.usedBytes < 0) throw new Error(`ByteBudget released more than acquired (${this.usedBytes})`)
    this.wake()
  }

  /** Rejects every waiter (the producer is closing). */
  rejectAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(err)
    }
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.usedBytes + this.waiters[0].bytes <= this.capacityBytes) {
      const w = this.waiters.shift()!
      clearTimeout(w.timer)
      this.usedBytes += w.bytes
      w.resolve()
    }
  }
}
