// Records and images as short lines of text, for logs and for scenario scripts.
import type { MetadataImage, PartitionImage } from './image.js'
import type { MetadataRecord } from './records.js'

export function formatRecord(r: MetadataRecord): string {
  switch (r.type) {
    case 'brokerRegistration':
      return `broker ${r.brokerId} registered incarnation=${r.incarnationId} url=${r.url}${r.rack ? ` rack=${r.rack}` : ''} directory=${r.directoryId}`
    case 'fenceBroker':
      return `broker ${r.brokerId} fenced`
    case 'unfenceBroker':
      return `broker ${r.brokerId} unfenced`
    case 'topic':
      return `topic ${r.name} id=${r.topicId}`
    case 'partition':
      return `partition ${r.topicId}/${r.index} replicas=${r.replicas.join(',')}`
    case 'partitionLeader':
      return `leader ${r.topicId}/${r.partition} leader=${r.leader} epoch=${r.leaderEpoch}${r.isr && r.isr.length > 0 ? ` isr=${r.isr.join(',')}` : ''}`
    case 'topicConfigSet':
      return `config ${r.topicId} ${r.key}=${r.value}`
    case 'topicConfigRemoved':
      return `config ${r.topicId} ${r.key} removed`
    case 'removeTopic':
      return `remove topic ${r.topicId}`
    case 'producerIdBlock':
      return `producer ids ${r.firstId}..${r.firstId + r.size - 1} to broker ${r.brokerId}`
    case 'featureLevel':
      return `feature ${r.name}=${r.level}`
    case 'partitionReassignment':
      return `reassign ${r.topicId}/${r.partition} replicas=${r.replicas.join(',')} adding=${r.adding.join(',')} removing=${r.removing.join(',')}`
  }
}

/** A partition's move in progress, if any, as " adding=… removing=…" (nothing otherwise, so lines of images without moves are unchanged). */
function moving(p: PartitionImage): string {
  return p.reassignment === undefined ? '' : ` adding=${p.reassignment.adding.join(',')} removing=${p.reassignment.removing.join(',')}`
}

/** One line per broker, topic, partition, producer id block and feature. */
export function formatImage(image: MetadataImage): string[] {
  const lines: string[] = []
  for (const b of image.brokers) {
    lines.push(`broker ${b.brokerId} ${b.fenced ? 'fenced' : 'unfenced'} url=${b.url}${b.rack ? ` rack=${b.rack}` : ''} incarnation=${b.incarnationId}`)
  }
  for (const t of image.topics) {
    const configs = Object.keys(t.configs).sort().map((k) => ` ${k}=${t.configs[k]}`).join('')
    lines.push(`topic ${t.name} id=${t.id}${configs}`)
    t.partitionStates.forEach((p, i) => lines.push(`  ${t.name}/${i} replicas=${p.replicas.join(',')} leader=${p.leader} epoch=${p.leaderEpoch}${p.isrReported ? ` isr=${p.isr.join(',')}` : ''}${moving(p)}`))
  }
  const block = image.producerIds
  if (block) lines.push(`producer ids next=${image.nextProducerId} (last block ${block.firstId}..${block.firstId + block.size - 1} to broker ${block.brokerId})`)
  for (const f of image.features) lines.push(`feature ${f.name}=${f.level}`)
  return lines
}
