// Typed storage errors. `code` is stable: the broker maps codes to protocol errors, tests and
// metrics key on them. Operating errors (bad input, corrupt data, full disk) are StorageErrors;
// programmer errors are assertion failures (`assert`), which must never be caught and retried.

export type StorageErrorCode =
  /** An offset below the log start or above the log end. Kafka: OFFSET_OUT_OF_RANGE. */
  | 'OFFSET_OUT_OF_RANGE'
  /** A follower batch does not start at the log end (or offsets go backwards). */
  | 'OFFSET_MISMATCH'
  /** A batch failed validation on append (its codec error is the cause). */
  | 'INVALID_BATCH'
  /** A batch is larger than the segment size or STORED_BATCH_BYTES_MAX. */
  | 'BATCH_TOO_LARGE'
  /** The range asked for is unreadable: its stored bytes failed their CRC. */
  | 'CORRUPT_DATA'
  /** A checkpoint or small file failed its checksum or did not parse. */
  | 'CORRUPT_FILE'
  /** A configuration value is out of its allowed range. */
  | 'INVALID_CONFIG'
  /** An argument is outside what the call accepts (e.g. maxBytes over READ_BYTES_MAX). */
  | 'INVALID_ARGUMENT'
  /** The log was closed, or failed an fsync and must be reopened. */
  | 'LOG_CLOSED'
  /** An fsync or write failed: the log stops accepting writes (its durable state is unknown). */
  | 'IO_FAILED'
  /** A limit from limits.ts was reached. */
  | 'LIMIT_EXCEEDED'

export class StorageError extends Error {
  override name = 'StorageError'
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Asserts a programmer-level invariant. A failure is a bug in Bitácora, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`storage assertion failed: ${message}`)
}
