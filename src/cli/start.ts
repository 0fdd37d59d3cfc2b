// Where `bitacora consume` starts in each partition: kcat's -o (beginning, end, an offset N, or
// -N: N records before the end), --from-time (an ISO 8601 date or epoch milliseconds), or
// --from-beginning. Each start is resolved to an offset against the partition's log start and
// end, so an offset outside the log is reported on stderr rather than reset silently.
import type { Client } from '../client/node.js'
import { UsageError } from './errors.js'

export type StartSpec =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'fromEnd'; count: number }
  | { kind: 'time'; timestamp: number }

export const START_HELP = `  -o, --offset OFFSET      where to start in every partition read: beginning, end, N (an offset), or -N
                           (N records before the end) (default: end, i.e. only new records)
  --from-beginning         same as -o beginning
  --from-time TIME         the first record at or after TIME: an ISO 8601 date (local time unless it
                           names a zone) or epoch milliseconds`

export function parseStart(offset: string | undefined, fromBeginning: boolean | undefined, fromTime: string | undefined): StartSpec {
  const given = [offset !== undefined && '--offset', fromBeginning && '--from-beginning', fromTime !== undefined && '--from-time'].filter(Boolean)
  if (given.length > 1) throw new UsageError(`consume: give one of ${given.join(', ')}, not several`)
  if (fromBeginning) return { kind: 'earliest' }
  if (fromTime !== undefined) return { kind: 'time', timestamp: parseTime(fromTime) }
  if (offset === undefined || offset === 'end' || offset === 'latest') return { kind: 'latest' }
  if (offset === 'beginning' || offset === 'earliest') return { kind: 'earliest' }
  if (offset === 'stored') throw new UsageError('--offset stored: the stored offsets are a consumer group\'s: give --group GROUP (its members start there)')
  const m = /^(-?)(\d{1,16})$/.exec(offset)
  const n = m ? Number(m[2]) : NaN
  if (!m || !Number.isSafeInteger(n)) throw new UsageError(`--offset: expected beginning, end, an offset N or -N (N before the end), got '${offset}'`)
  return m[1] === '-' ? { kind: 'fromEnd', count: n } : { kind: 'offset', offset: n }
}

/** Epoch milliseconds, or an ISO 8601 date / date-time (local time when it names no zone). */
export function parseTime(text: string, flag = '--from-time'): number {
  if (/^\d{1,15}$/.test(text)) return Number(text)
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(text)
  // A date alone would parse as UTC midnight: make it local midnight, like a date-time without a zone.
  const ms = iso ? Date.parse(text.length === 10 ? `${text}T00:00` : text.replace(' ', 'T')) : NaN
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`${flag}: expected an ISO 8601 date (2026-12-04, 2026-12-04T10:30:00Z) or epoch milliseconds, got '${text}'`)
  return ms
}

export interface PartitionStart {
  partition: number
  /** First offset to read. */
  offset: number
  /** The partition's log start and end (high watermark) when the start was resolved. */
  logStart: number
  end: number
  /** Set when the start asked for is outside the log and was moved. */
  warning?: string
}

/** One partition's start, given its log start and end (and, for a time, the offset found or -1). */
export function resolveStart(spec: StartSpec, topic: string, partition: number, logStart: number, end: number, atTime = -1): PartitionStart {
  const at = (offset: number, warning?: string): PartitionStart => ({ partition, offset, logStart, end, ...(warning ? { warning } : {}) })
  switch (spec.kind) {
    case 'earliest': return at(logStart)
    case 'latest': return at(end)
    case 'fromEnd': return at(Math.max(logStart, end - spec.count))
    case 'time': return at(atTime >= 0 ? atTime : end)
    case 'offset':
      if (spec.offset >= logStart && spec.offset <= end) return at(spec.offset)
      // What Kafka's consumer does with auto.offset.reset=latest, but said.
      return at(end, `offset ${spec.offset} is out of range for ${topic}/${partition} (log start ${logStart}, end ${end}): starting at the end, offset ${end}`)
  }
}

/** Each partition's start, from its log start and end offsets (and the offsets of a time). */
export async function partitionStarts(client: Client, topic: string, partitions: readonly number[], spec: StartSpec): Promise<PartitionStart[]> {
  const admin = client.admin()
  const [starts, ends, times] = await Promise.all([
    admin.listOffsets(topic, 'earliest', partitions),
    admin.listOffsets(topic, 'latest', partitions),
    spec.kind === 'time' ? admin.listOffsets(topic, { timestamp: spec.timestamp }, partitions) : undefined,
  ])
  return partitions.map((p, i) => resolveStart(spec, topic, p, starts[i].offset, ends[i].offset, times?.[i].offset))
}
