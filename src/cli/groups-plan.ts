// `groups reset-offsets`: the reset mode and scope as typed, and the plan (each partition's new
// offset) computed from the partitions' offsets, as kafka-consumer-groups --reset-offsets does.
// Pure: no client, no clock (the caller passes now). Offsets outside [log start, log end] are
// clamped, and the plan says which.
import { OperationalError, UsageError } from './errors.js'
import { parseTime } from './start.js'

export type ResetMode =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: number }
  /** --to-datetime and --by-duration: the first offset at or after this time. */
  | { readonly kind: 'time'; readonly timestamp: number }
  | { readonly kind: 'shift'; readonly by: number }

export interface ResetModeFlags {
  'to-earliest'?: boolean
  'to-latest'?: boolean
  'to-offset'?: string
  'to-datetime'?: string
  'by-duration'?: string
  'shift-by'?: string
}

export const MODE_FLAGS = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime', 'by-duration', 'shift-by'] as const

/** Exactly one reset mode, or a UsageError naming what is missing or in conflict. */
export function parseResetMode(flags: ResetModeFlags, nowMs: number): ResetMode {
  const given = MODE_FLAGS.filter((f) => flags[f] !== undefined && flags[f] !== false)
  if (given.length === 0) throw new UsageError(`groups reset-offsets: give one reset mode: ${MODE_FLAGS.map((f) => `--${f}`).join(', ')}`)
  if (given.length > 1) throw new UsageError(`groups reset-offsets: give one reset mode, not ${given.map((f) => `--${f}`).join(' and ')}`)
  switch (given[0]) {
    case 'to-earliest': return { kind: 'earliest' }
    case 'to-latest': return { kind: 'latest' }
    case 'to-offset': return { kind: 'offset', offset: parseOffset(flags['to-offset'] ?? '') }
    case 'to-datetime': return { kind: 'time', timestamp: parseTime(flags['to-datetime'] ?? '', '--to-datetime') }
    case 'by-duration': return { kind: 'time', timestamp: Math.max(0, nowMs - parseDuration(flags['by-duration'] ?? '')) }
    case 'shift-by': return { kind: 'shift', by: parseShift(flags['shift-by'] ?? '') }
  }
}

function parseOffset(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n)) throw new UsageError(`--to-offset: expected an offset (an integer >= 0), got '${text}'`)
  return n
}

function parseShift(text: string): number {
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n)) throw new UsageError(`--shift-by: expected a signed integer (-10, +5), got '${text}'`)
  return n
}

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/i

/** An ISO 8601 duration as Kafka's --by-duration takes it (Java's Duration: PnDTnHnMn.nS), in ms. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text)
  const bad = () => new UsageError(`--by-duration: expected an ISO 8601 duration PnDTnHnMnS (P1D, PT1H30M, P2DT12H), got '${text}'`)
  // 'P', 'PT' and a 'T' with nothing after it match the pattern but say nothing.
  if (!m || m.slice(1).every((g) => g === undefined) || /T$/i.test(text)) throw bad()
  const [days, hours, minutes, seconds] = m.slice(1).map((g) => Number(g ?? 0))
  const ms = Math.round((((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000)
  if (!Number.isSafeInteger(ms)) throw bad()
  return ms
}

export interface ScopeEntry {
  readonly topic: string
  /** null: every partition of the topic. */
  readonly partitions: readonly number[] | null
}

/** --topic values: `t` (every partition) or `t:0,1,2`; the same topic twice merges. */
export function parseScope(values: readonly string[]): ScopeEntry[] {
  const byTopic = new Map<string, Set<number> | null>()
  for (const v of values) {
    const colon = v.indexOf(':')
    const topic = colon < 0 ? v : v.slice(0, colon)
    if (topic === '') throw new UsageError(`--topic: expected TOPIC or TOPIC:P,P,..., got '${v}'`)
    if (colon < 0) {
      byTopic.set(topic, null)
      continue
    }
    const partitions = v.slice(colon + 1).split(',').map((p) => {
      const n = /^\d+$/.test(p) ? Number(p) : NaN
      if (!Number.isSafeInteger(n) || n > 0x7fffffff) throw new UsageError(`--topic ${v}: '${p}' is not a partition number`)
      return n
    })
    const known = byTopic.get(topic)
    if (known === null) continue // the whole topic was asked for already
    byTopic.set(topic, new Set([...(known ?? []), ...partitions]))
  }
  return [...byTopic].map(([topic, set]) => ({ topic, partitions: set === null ? null : [...set].sort((a, b) => a - b) }))
}

/** What the plan needs to know of one partition. */
export interface PartitionFacts {
  readonly topic: string
  readonly partition: number
  readonly logStart: number
  /** The high watermark: the latest offset a consumer can read up to. */
  readonly logEnd: number
  /** -1: the group has committed nothing here. */
  readonly committed: number
  /** For a time mode: the first offset at or after the time, -1 if none (then the log end, as Kafka). */
  readonly atTime?: number
}

export interface PlannedOffset {
  readonly topic: string
  readonly partition: number
  readonly newOffset: number
  /** -1: nothing committed before. */
  readonly previousOffset: number
  /** The offset the mode asked for, when it was outside the log and moved to its start or end. */
  readonly clamped: { readonly requested: number; readonly to: 'log-start' | 'log-end' } | null
}

/** Each partition's new offset; throws (nothing planned) if a shift meets a partition with nothing committed. */
export function planReset(mode: ResetMode, facts: readonly PartitionFacts[]): PlannedOffset[] {
  return facts.map((f) => {
    const requested = requestedOffset(mode, f)
    const clamped = requested < f.logStart ? ({ requested, to: 'log-start' } as const) : requested > f.logEnd ? ({ requested, to: 'log-end' } as const) : null
    const newOffset = clamped === null ? requested : clamped.to === 'log-start' ? f.logStart : f.logEnd
    return { topic: f.topic, partition: f.partition, newOffset, previousOffset: f.committed, clamped }
  })
}

function requestedOffset(mode: ResetMode, f: PartitionFacts): number {
  switch (mode.kind) {
    case 'earliest': return f.logStart
    case 'latest': return f.logEnd
    case 'offset': return mode.offset
    case 'time': return f.atTime === undefined || f.atTime < 0 ? f.logEnd : f.atTime
    case 'shift':
      // Kafka's message: there is nothing to shift from.
      if (f.committed < 0) throw new OperationalError(`cannot shift the offset of ${f.topic}:${f.partition}: the group has no committed offset there (reset it with --to-earliest, --to-offset, ... first)`)
      return f.committed + mode.by
  }
}

/** Kafka's warning for a clamped offset, one line. */
export function clampNote(p: PlannedOffset): string | null {
  if (p.clamped === null) return null
  const side = p.clamped.to === 'log-start' ? 'lower than the earliest' : 'higher than the latest'
  return `new offset ${p.clamped.requested} of ${p.topic}:${p.partition} is ${side} offset: set to ${p.newOffset}`
}
