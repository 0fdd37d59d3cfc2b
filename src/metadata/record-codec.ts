// Metadata records and snapshots as bytes (proto/bitacora.proto, "Metadata records"): one
// MetadataRecord per value of the metadata log; a MetadataSnapshot, compact, for an image.
// Decoding checks the shape only (a known record type, ids of 16 bytes, columns that add up);
// whether a record fits the image is the image's to say.
import { bitacora } from '../protocol/index.js'
import { MetadataError } from './delta.js'
import type { MetadataImage } from './image.js'
import type { MetadataRecord } from './records.js'
import { UUID_BYTES, uuidBytes, uuidHex } from './uuid.js'

type Pb = bitacora.IMetadataRecord

export function encodeRecord(record: MetadataRecord): Uint8Array {
  return bitacora.MetadataRecord.encode(toProto(record)).finish()
}

/** Throws MetadataError naming the problem when `bytes` are not a metadata record. */
export function decodeRecord(bytes: Uint8Array): MetadataRecord {
  return fromProto(decode(() => bitacora.MetadataRecord.decode(bytes), 'a metadata record'))
}

/** The image as a snapshot (proto MetadataSnapshot: compact, one message per topic). */
export function encodeSnapshot(image: MetadataImage): Uint8Array {
  return bitacora.MetadataSnapshot.encode({
    brokers: image.brokers.map((b) => ({ brokerId: b.brokerId, incarnationId: uuidBytes(b.incarnationId), url: b.url, rack: b.rack, directoryId: uuidBytes(b.directoryId) })),
    unfencedBrokerIds: image.brokers.filter((b) => !b.fenced).map((b) => b.brokerId),
    topics: image.topics.map((t) => ({
      name: t.name,
      topicId: uuidBytes(t.id),
      replicaCounts: t.partitionStates.map((p) => p.replicas.length),
      replicas: t.partitionStates.flatMap((p) => p.replicas),
      leaders: t.partitionStates.map((p) => p.leader),
      leaderEpochs: t.partitionStates.map((p) => p.leaderEpoch),
      configs: t.configs,
      reassignments: t.partitionStates.flatMap((p, partition) => (p.reassignment === undefined ? [] : [
        { partition, replicas: [...p.replicas], addingReplicas: [...p.reassignment.adding], removingReplicas: [...p.reassignment.removing] },
      ])),
      isrCounts: t.partitionStates.map((p) => (p.isrReported ? p.isr.length : 0)),
      isr: t.partitionStates.flatMap((p) => (p.isrReported ? p.isr : [])),
    })),
    producerIds: image.producerIds,
    features: image.features.map(({ name, level }) => ({ name, level })),
  }).finish()
}

/**
 * The records a snapshot stands for: those `MetadataImage.toRecords()` gives for the image it
 * was encoded from (apply them to an empty image to rebuild it). Throws MetadataError naming
 * the problem when `bytes` are not a snapshot.
 */
export function decodeSnapshot(bytes: Uint8Array): MetadataRecord[] {
  const snapshot = decode(() => bitacora.MetadataSnapshot.decode(bytes), 'a metadata snapshot')
  const records: MetadataRecord[] = []
  const unfenced = new Set(snapshot.unfencedBrokerIds)
  for (const b of snapshot.brokers as bitacora.MetadataRecord.BrokerRegistration[]) {
    records.push({ type: 'brokerRegistration', brokerId: b.brokerId, incarnationId: uuid(b.incarnationId, 'incarnation id'), url: b.url, rack: b.rack, directoryId: uuid(b.directoryId, 'directory id') })
    if (unfenced.has(b.brokerId)) records.push({ type: 'unfenceBroker', brokerId: b.brokerId })
  }
  for (const t of snapshot.topics as bitacora.MetadataSnapshot.TopicState[]) topicRecords(t, records)
  const block = snapshot.producerIds as bitacora.MetadataRecord.ProducerIdBlock | null
  if (block) records.push({ type: 'producerIdBlock', brokerId: block.brokerId, firstId: block.firstId, size: block.size })
  for (const f of snapshot.features as bitacora.MetadataRecord.FeatureLevel[]) records.push({ type: 'featureLevel', name: f.name, level: f.level })
  return records
}

/** A topic of a snapshot as its records, appended to `out`. */
function topicRecords(t: bitacora.MetadataSnapshot.TopicState, out: MetadataRecord[]): void {
  const topicId = uuid(t.topicId)
  const partitions = t.replicaCounts.length
  if (t.leaders.length !== partitions || t.leaderEpochs.length !== partitions) {
    throw new MetadataError(`snapshot of topic "${t.name}": ${partitions} partitions but ${t.leaders.length} leaders and ${t.leaderEpochs.length} epochs`)
  }
  if (t.isrCounts.length !== 0 && t.isrCounts.length !== partitions) {
    throw new MetadataError(`snapshot of topic "${t.name}": ${partitions} partitions but ${t.isrCounts.length} ISR counts`)
  }
  out.push({ type: 'topic', name: t.name, topicId })
  const reassignments = new Map((t.reassignments as bitacora.MetadataRecord.PartitionReassignment[]).map((r) => [r.partition, r]))
  let at = 0
  let isrAt = 0
  for (let index = 0; index < partitions; index++) {
    const count = t.replicaCounts[index]
    if (count < 0 || at + count > t.replicas.length) throw new MetadataError(`snapshot of topic "${t.name}": partition ${index}'s replicas run past the ${t.replicas.length} listed`)
    out.push({ type: 'partition', topicId, index, replicas: t.replicas.slice(at, at + count) })
    const moving = reassignments.get(index)
    if (moving !== undefined) out.push(reassignmentRecord(moving, topicId))
    at += count
    const isrCount = t.isrCounts[index] ?? 0
    if (isrCount < 0 || isrAt + isrCount > t.isr.length) throw new MetadataError(`snapshot of topic "${t.name}": partition ${index}'s ISR runs past the ${t.isr.length} listed`)
    const isr = t.isr.slice(isrAt, isrAt + isrCount)
    isrAt += isrCount
    const leaderEpoch = t.leaderEpochs[index]
    if (leaderEpoch >= 0) out.push({ type: 'partitionLeader', topicId, partition: index, leader: t.leaders[index], leaderEpoch, ...(isr.length > 0 ? { isr } : {}) })
  }
  if (at !== t.replicas.length) throw new MetadataError(`snapshot of topic "${t.name}": ${t.replicas.length - at} replicas belong to no partition`)
  if (isrAt !== t.isr.length) throw new MetadataError(`snapshot of topic "${t.name}": ${t.isr.length - isrAt} ISR entries belong to no partition`)
  for (const key of Object.keys(t.configs).sort()) out.push({ type: 'topicConfigSet', topicId, key, value: t.configs[key] })
}

function decode<T>(f: () => T, what: string): T {
  try {
    return f()
  } catch (err) {
    throw new MetadataError(`not ${what} (${(err as Error).message})`)
  }
}

function toProto(r: MetadataRecord): Pb {
  switch (r.type) {
    case 'brokerRegistration':
      return { brokerRegistration: { brokerId: r.brokerId, incarnationId: uuidBytes(r.incarnationId), url: r.url, rack: r.rack, directoryId: uuidBytes(r.directoryId) } }
    case 'fenceBroker':
      return { fenceBroker: { brokerId: r.brokerId } }
    case 'unfenceBroker':
      return { unfenceBroker: { brokerId: r.brokerId } }
    case 'topic':
      return { topic: { name: r.name, topicId: uuidBytes(r.topicId) } }
    case 'partition':
      return { partition: { topicId: uuidBytes(r.topicId), index: r.index, replicas: [...r.replicas] } }
    case 'partitionLeader':
      return { partitionLeader: { topicId: uuidBytes(r.topicId), partition: r.partition, leader: r.leader, leaderEpoch: r.leaderEpoch, isr: r.isr ? [...r.isr] : [] } }
    case 'topicConfigSet':
      return { topicConfigSet: { topicId: uuidBytes(r.topicId), key: r.key, value: r.value } }
    case 'topicConfigRemoved':
      return { topicConfigRemoved: { topicId: uuidBytes(r.topicId), key: r.key } }
    case 'removeTopic':
      return { removeTopic: { topicId: uuidBytes(r.topicId) } }
    case 'producerIdBlock':
      return { producerIdBlock: { brokerId: r.brokerId, firstId: r.firstId, size: r.size } }
    case 'featureLevel':
      return { featureLevel: { name: r.name, level: r.level } }
    case 'partitionReassignment':
      return { partitionReassignment: { topicId: uuidBytes(r.topicId), partition: r.partition, replicas: [...r.replicas], addingReplicas: [...r.adding], removingReplicas: [...r.removing] } }
  }
}

/** A decoded record: the `record` oneof names the one field set, a decoded message with every field (absent: its default). */
function fromProto(m: bitacora.MetadataRecord): MetadataRecord {
  const pb = bitacora.MetadataRecord
  switch (m.record) {
    case 'brokerRegistration': {
      const b = m.brokerRegistration as bitacora.MetadataRecord.BrokerRegistration
      return { type: 'brokerRegistration', brokerId: b.brokerId, incarnationId: uuid(b.incarnationId, 'incarnation id'), url: b.url, rack: b.rack, directoryId: uuid(b.directoryId, 'directory id') }
    }
    case 'fenceBroker':
      return { type: 'fenceBroker', brokerId: (m.fenceBroker as InstanceType<typeof pb.FenceBroker>).brokerId }
    case 'unfenceBroker':
      return { type: 'unfenceBroker', brokerId: (m.unfenceBroker as InstanceType<typeof pb.UnfenceBroker>).brokerId }
    case 'topic': {
      const t = m.topic as InstanceType<typeof pb.Topic>
      return { type: 'topic', name: t.name, topicId: uuid(t.topicId) }
    }
    case 'partition': {
      const p = m.partition as InstanceType<typeof pb.Partition>
      return { type: 'partition', topicId: uuid(p.topicId), index: p.index, replicas: p.replicas }
    }
    case 'partitionLeader': {
      const p = m.partitionLeader as InstanceType<typeof pb.PartitionLeader>
      return { type: 'partitionLeader', topicId: uuid(p.topicId), partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, ...(p.isr.length > 0 ? { isr: p.isr } : {}) }
    }
    case 'topicConfigSet': {
      const c = m.topicConfigSet as InstanceType<typeof pb.TopicConfigSet>
      return { type: 'topicConfigSet', topicId: uuid(c.topicId), key: c.key, value: c.value }
    }
    case 'topicConfigRemoved': {
      const c = m.topicConfigRemoved as InstanceType<typeof pb.TopicConfigRemoved>
      return { type: 'topicConfigRemoved', topicId: uuid(c.topicId), key: c.key }
    }
    case 'removeTopic':
      return { type: 'removeTopic', topicId: uuid((m.removeTopic as InstanceType<typeof pb.RemoveTopic>).topicId) }
    case 'producerIdBlock': {
      const b = m.producerIdBlock as InstanceType<typeof pb.ProducerIdBlock>
      return { type: 'producerIdBlock', brokerId: b.brokerId, firstId: b.firstId, size: b.size }
    }
    case 'featureLevel': {
      const f = m.featureLevel as InstanceType<typeof pb.FeatureLevel>
      return { type: 'featureLevel', name: f.name, level: f.level }
    }
    case 'partitionReassignment':
      return reassignmentRecord(m.partitionReassignment as InstanceType<typeof pb.PartitionReassignment>)
    default:
      throw new MetadataError('a metadata record of no type this node knows (written by a newer version?)')
  }
}

function reassignmentRecord(r: bitacora.MetadataRecord.PartitionReassignment, topicId = uuid(r.topicId)): MetadataRecord {
  return { type: 'partitionReassignment', topicId, partition: r.partition, replicas: r.replicas, adding: r.addingReplicas, removing: r.removingReplicas }
}

function uuid(bytes: Uint8Array, what = 'topic id'): string {
  if (bytes.length !== UUID_BYTES) throw new MetadataError(`${what} must be ${UUID_BYTES} bytes, got ${bytes.length}`)
  return uuidHex(bytes)
}
