/** Raised when the core's own invariants break: a programmer error, never an operating one. */
export class RaftAssertionError extends Error {
  override name = 'RaftAssertionError'
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new RaftAssertionError(message)
}
