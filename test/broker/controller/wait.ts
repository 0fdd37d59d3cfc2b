// Helpers of the controller tests that run real replicas: a quiet logger and waiting for a condition.
import type { Logger } from '../../../src/broker/log.js'

export const quietLog: Logger = { info() {}, warn() {}, error() {} }

/** Waits for `condition`, checking every 5 ms; fails naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
