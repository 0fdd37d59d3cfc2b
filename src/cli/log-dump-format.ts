// How `bitacora log dump` prints: as text for people (Kafka's kafka-dump-log layout, one line
// per batch, `|` lines for records, `!` lines for findings) or as one JSON object per line for
// tools. Pure. The JSON field names are a contract (README, "bitacora log dump"): a `batch` or
// `record` line depends only on the batch's bytes, never on where they lie on disk, so the dumps
// of two replicas compare line by line up to an offset.
import type { DecodedRecord } from '../codec/index.js'
import { formatRecord } from '../metadata/format.js'
import { MetadataError } from '../metadata/image.js'
import { decodeRecord } from '../metadata/record-codec.js'
import { hex, type DumpedBatch, type DumpSummary, type Finding, type PartitionFacts, type SegmentFile } from '../storage/dump.js'
import { jsonField, utf8Text } from './format.js'

/** Which partition a directory holds, as far as the dump knows. */
export interface PartitionName {
  readonly dir: string
  /** null: the metadata log does not name the topic (or could not be read). */
  readonly topic: string | null
  /** null: the directory's name is not `<topic id>-<partition>`. */
  readonly topicId: string | null
  readonly partition: number | null
}

export interface DumpFormat {
  partition(name: PartitionName, facts: PartitionFacts): string[]
  segment(segment: SegmentFile, active: boolean): string[]
  /** `metadata`: the batch is the metadata log's, whose record values are metadata records (decoded beside them). */
  batch(batch: DumpedBatch, metadata: boolean): string[]
  finding(finding: Finding): string[]
  end(name: PartitionName, summary: DumpSummary): string[]
}

const json = (o: object) => [JSON.stringify(o)]

export const JSON_FORMAT: DumpFormat = {
  partition: (name, facts) => json({
    type: 'partition', dir: name.dir, topic: name.topic, topicId: name.topicId, partition: name.partition,
    logStart: facts.logStart, leaderEpochs: facts.leaderEpochs,
    segments: facts.segments.map((s) => ({ file: s.file, baseOffset: s.baseOffset, sizeBytes: s.sizeBytes })),
  }),
  segment: (s, active) => json({ type: 'segment', file: s.file, baseOffset: s.baseOffset, sizeBytes: s.sizeBytes, active }),
  batch: (b, metadata) => {
    const h = b.header
    const lines = json({
      type: 'batch', baseOffset: h.baseOffset, lastOffset: h.nextOffset - 1, recordCount: h.recordCount,
      leaderEpoch: h.partitionLeaderEpoch, producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence,
      compression: h.compression, timestampType: h.timestampType, transactional: h.transactional, control: h.control,
      baseTimestamp: h.baseTimestamp, maxTimestamp: h.maxTimestamp, sizeBytes: h.sizeBytes, magic: h.magic,
      crc: hex(h.crc), computedCrc: hex(b.computedCrc), crcOk: h.crc === b.computedCrc,
      ...(b.records !== undefined && 'error' in b.records ? { recordsError: b.records.error } : {}),
    })
    if (b.records !== undefined && !('error' in b.records)) for (const r of b.records) lines.push(jsonRecord(r, metadata && !h.control))
    return lines
  },
  finding: (f) => json({ type: 'finding', kind: f.kind, segment: f.segment ?? null, position: f.position ?? null, message: f.message }),
  end: (name, s) => json({ type: 'end', dir: name.dir, ...s }),
}

function jsonRecord(r: DecodedRecord, metadata: boolean): string {
  const key = jsonField(r.key, 'utf8')
  const value = jsonField(r.value, 'utf8')
  return JSON.stringify({
    type: 'record', offset: r.offset, timestamp: r.timestamp,
    key: key.text, ...(key.encoding ? { keyEncoding: key.encoding } : {}),
    value: value.text, ...(value.encoding ? { valueEncoding: value.encoding } : {}),
    headers: r.headers.map((h) => {
      const v = jsonField(h.value, 'utf8')
      return { key: h.key, value: v.text, ...(v.encoding ? { valueEncoding: v.encoding } : {}) }
    }),
    ...(metadata ? { metadataRecord: metadataRecord(r.value) } : {}),
  })
}

/** A metadata log record's value as one line of text (metadata/format.ts), or why it is not one. */
function metadataRecord(value: Uint8Array | null): string {
  if (value === null) return 'not a metadata record: no value'
  try {
    return formatRecord(decodeRecord(value))
  } catch (err) {
    if (err instanceof MetadataError) return `not a metadata record: ${err.message}`
    throw err
  }
}

export const TEXT_FORMAT: DumpFormat = {
  partition: (name, facts) => {
    const start = facts.logStart
    return [
      `partition ${partitionLabel(name)} in ${name.dir}`,
      `  log start: ${start === null ? 'no log-start-offset checkpoint (the first segment\'s base)' : `${start.offset} (epoch below it: ${start.epoch ?? 'unknown, version 1 file'})`}`,
      `  leader epochs: ${facts.leaderEpochs === null ? 'no leader-epoch-checkpoint' : facts.leaderEpochs.map((e) => `${e.epoch}@${e.startOffset}`).join(' ') || 'none'}`,
      `  segments: ${facts.segments.length}`,
    ]
  },
  segment: (s, active) => [`segment ${s.file}: base offset ${s.baseOffset}, ${s.sizeBytes} bytes${active ? ' (active: a running broker may be writing it)' : ''}`],
  batch: (b, metadata) => {
    const h = b.header
    const ok = h.crc === b.computedCrc
    const lines = [
      `baseOffset: ${h.baseOffset} lastOffset: ${h.nextOffset - 1} count: ${h.recordCount} leaderEpoch: ${h.partitionLeaderEpoch}` +
        ` producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} baseSequence: ${h.baseSequence}` +
        ` compression: ${h.compression} isControl: ${h.control} isTransactional: ${h.transactional}` +
        ` ${h.timestampType}: ${h.baseTimestamp} maxTimestamp: ${h.maxTimestamp} position: ${b.position} size: ${h.sizeBytes}` +
        ` crc: ${hex(h.crc)} ${ok ? 'ok' : `BAD (computed ${hex(b.computedCrc)})`}`,
    ]
    if (b.records !== undefined) {
      if ('error' in b.records) lines.push(`| records: ${b.records.error}`)
      else for (const r of b.records) lines.push(textRecord(r, metadata && !h.control))
    }
    return lines
  },
  finding: (f) => [`! ${f.kind}: ${f.message}`],
  end: (name, s) => [
    `end of ${partitionLabel(name)}: ${s.batches} batches, ${s.records} records, next offset ${s.nextOffset ?? 'none'}` +
      `, ${s.crcMismatches} CRC mismatches, ${s.findings} findings${s.stoppedAtMaxOffset ? ' (stopped at --max-offset)' : ''}`,
  ],
}

function partitionLabel(name: PartitionName): string {
  const topic = name.topic ?? (name.topicId === null ? '?' : `(topic id ${name.topicId}, name unknown)`)
  return name.partition === null ? topic : `${topic}-${name.partition}`
}

/** Bytes for a person: quoted text if UTF-8, else base64 named as such. */
function textBytes(b: Uint8Array | null): string {
  if (b === null) return 'null'
  const text = utf8Text(b)
  return text !== null ? JSON.stringify(text) : `base64:${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}`
}

function textRecord(r: DecodedRecord, metadata: boolean): string {
  const headers = r.headers.length === 0 ? '' : ` headers: ${r.headers.map((h) => `${JSON.stringify(h.key)}=${textBytes(h.value)}`).join(',')}`
  const decoded = metadata ? ` metadata: ${metadataRecord(r.value)}` : ''
  return `| offset: ${r.offset} timestamp: ${r.timestamp} key: ${textBytes(r.key)} value: ${textBytes(r.value)}${headers}${decoded}`
}
