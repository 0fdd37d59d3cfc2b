// Handshake, Metadata, CreateTopics, DeleteTopics, DescribeConfigs, AlterConfigs.
import { randomUUID } from 'node:crypto'
import { bitacora, ErrorCode, PROTOCOL_VERSION, wireError } from '../../protocol/index.js'
import { checkTopicConfigs, effectiveConfigs, TOPIC_CONFIGS, type TopicConfigs } from '../topic-config.js'
import { topicNameProblem, type TopicInfo } from '../topic-registry.js'
import type { BrokerContext } from './context.js'

const API_NAMES = ['handshake', 'metadata', 'createTopics', 'deleteTopics', 'describeConfigs', 'alterConfigs', 'produce', 'fetch', 'listOffsets']

/** How long CreateTopics waits for new partitions' leaders when the request names no timeout. */
const CREATE_READY_TIMEOUT_MS = 10_000

const uuidBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)))

export function handshake(ctx: BrokerContext, req: bitacora.IHandshakeRequest): bitacora.IHandshakeResponse {
  return {
    protocolVersion: Math.min(req.protocolVersion || PROTOCOL_VERSION, PROTOCOL_VERSION),
    brokerId: ctx.config.brokerId,
    clusterId: ctx.clusterId,
    apis: API_NAMES.map((api) => ({ api, minVersion: 1, maxVersion: 1 })),
    maxFrameBytes: ctx.config.limits.frameBytesMax,
    maxInFlightRequests: ctx.config.limits.inFlightRequestsMax,
  }
}

export function metadata(ctx: BrokerContext, req: bitacora.IMetadataRequest): bitacora.IMetadataResponse {
  const names = req.topics?.length ? req.topics : ctx.registry.list().map((t) => t.name)
  return {
    brokers: [{ id: ctx.config.brokerId, url: ctx.url, rack: '' }],
    clusterId: ctx.clusterId,
    controllerId: ctx.config.brokerId,
    topics: names.map((name) => {
      const topic = ctx.registry.get(name)
      if (!topic) return { name, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${name}"`), partitions: [] }
      return {
        name,
        topicId: uuidBytes(topic.id),
        partitions: Array.from({ length: topic.partitions }, (_, index) => {
          const r = ctx.replicas.partition(name, index)
          const leaderId = r?.leaderId ?? -1
          return {
            index,
            leaderId,
            leaderEpoch: r?.leaderEpoch ?? -1,
            replicas: [ctx.config.brokerId],
            inSyncReplicas: [ctx.config.brokerId],
            error: leaderId < 0 ? wireError(ErrorCode.LEADER_NOT_AVAILABLE) : null,
          }
        }),
      }
    }),
  }
}

export async function createTopics(ctx: BrokerContext, req: bitacora.ICreateTopicsRequest): Promise<bitacora.ICreateTopicsResponse> {
  const results: bitacora.ITopicResult[] = []
  const seen = new Set<string>()
  for (const t of req.topics ?? []) {
    const name = t.name ?? ''
    const fail = (code: ErrorCode, message: string) => results.push({ name, error: wireError(code, message) })
    const partitions = t.partitions || ctx.config.defaultPartitions
    const configs: TopicConfigs = Object.fromEntries(Object.entries(t.configs ?? {}))
    const nameProblem = topicNameProblem(name)
    if (nameProblem) fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem)
    else if (seen.has(name)) fail(ErrorCode.INVALID_REQUEST, `topic "${name}" appears twice in the request`)
    else if (ctx.registry.get(name)) fail(ErrorCode.TOPIC_ALREADY_EXISTS, `topic "${name}" already exists`)
    else if (!Number.isInteger(partitions) || partitions < 1 || partitions > ctx.config.limits.partitionsPerTopicMax) {
      fail(ErrorCode.INVALID_PARTITIONS, `partitions must be in [1, ${ctx.config.limits.partitionsPerTopicMax}], got ${partitions}`)
    } else if (t.replicationFactor && t.replicationFactor !== 1) {
      fail(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${t.replicationFactor} needs more brokers than this cluster has (1)`)
    } else if (checkTopicConfigs(configs)) fail(ErrorCode.INVALID_CONFIG, checkTopicConfigs(configs)!)
    else if (ctx.registry.size >= ctx.config.limits.topicsMax) fail(ErrorCode.POLICY_VIOLATION, `the broker holds its maximum of ${ctx.config.limits.topicsMax} topics`)
    else if (req.validateOnly) results.push({ name, error: null })
    else {
      const topic: TopicInfo = { name, id: randomUUID().replaceAll('-', ''), partitions, configs }
      try {
        await ctx.adminSerial.run(async () => {
          if (ctx.registry.get(name)) throw new Error(`topic "${name}" already exists`)
          await ctx.replicas.open(topic)
          await ctx.registry.put(topic)
        })
        // Answer once the partitions can take writes, so a client's first produce succeeds.
        const ready = await Promise.all(
          Array.from({ length: partitions }, (_, p) => ctx.replicas.partition(name, p)?.waitLeaderReady(req.timeoutMs || CREATE_READY_TIMEOUT_MS)),
        )
        const error = ready.every(Boolean) ? null : wireError(ErrorCode.REQUEST_TIMED_OUT, `topic "${name}" was created; some partitions have no leader yet`)
        results.push({ name, topicId: uuidBytes(topic.id), error })
      } catch (err) {
        fail(ErrorCode.UNKNOWN_SERVER_ERROR, `creating topic "${name}" failed: ${(err as Error).message}`)
      }
    }
    seen.add(name)
  }
  return { topics: results }
}

export async function deleteTopics(ctx: BrokerContext, req: bitacora.IDeleteTopicsRequest): Promise<bitacora.IDeleteTopicsResponse> {
  const results: bitacora.ITopicResult[] = []
  for (const name of req.names ?? []) {
    const topic = ctx.registry.get(name)
    if (!topic) {
      results.push({ name, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${name}"`) })
      continue
    }
    await ctx.adminSerial.run(async () => {
      await ctx.registry.remove(name) // first: a crash now leaves orphan directories, never a half topic
      await ctx.replicas.delete(topic)
    })
    results.push({ name, topicId: uuidBytes(topic.id), error: null })
  }
  return { topics: results }
}

function resourceProblem(ctx: BrokerContext, r: bitacora.IConfigResource | null | undefined): [ErrorCode, string] | null {
  if (!r || r.type !== bitacora.ConfigResourceType.TOPIC) return [ErrorCode.INVALID_REQUEST, 'only TOPIC config resources are supported']
  if (!ctx.registry.get(r.name ?? '')) return [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${r.name}"`]
  return null
}

export function describeConfigs(ctx: BrokerContext, req: bitacora.IDescribeConfigsRequest): bitacora.IDescribeConfigsResponse {
  return {
    results: (req.resources ?? []).map((target) => {
      const problem = resourceProblem(ctx, target.resource)
      if (problem) return { resource: target.resource, error: wireError(...problem), entries: [] }
      const topic = ctx.registry.get(target.resource!.name!)!
      const keys = new Set(target.keys ?? [])
      return {
        resource: target.resource,
        error: null,
        entries: effectiveConfigs(topic.configs)
          .filter(({ entry }) => keys.size === 0 || keys.has(entry.name))
          .map(({ entry, value, isDefault }) => ({ name: entry.name, value, isDefault, readOnly: false, documentation: entry.doc })),
      }
    }),
  }
}

export async function alterConfigs(ctx: BrokerContext, req: bitacora.IAlterConfigsRequest): Promise<bitacora.IAlterConfigsResponse> {
  const results: bitacora.AlterConfigsResponse.IResult[] = []
  for (const target of req.resources ?? []) {
    const problem = resourceProblem(ctx, target.resource)
    if (problem) {
      results.push({ resource: target.resource, error: wireError(...problem) })
      continue
    }
    const topic = ctx.registry.get(target.resource!.name!)!
    const next: Record<string, string> = { ...topic.configs, ...Object.fromEntries(Object.entries(target.set ?? {})) }
    const unknownReset = (target.reset ?? []).find((k) => !TOPIC_CONFIGS.some((e) => e.name === k))
    for (const key of target.reset ?? []) delete next[key]
    const bad = unknownReset ? `unknown topic config '${unknownReset}'` : checkTopicConfigs(next)
    if (bad) {
      results.push({ resource: target.resource, error: wireError(ErrorCode.INVALID_CONFIG, bad) })
      continue
    }
    if (!req.validateOnly) {
      // Replicas pick up new log configs when reopened (next broker start).
      await ctx.adminSerial.run(() => ctx.registry.put({ ...topic, configs: next }))
    }
    results.push({ resource: target.resource, error: null })
  }
  return { results }
}
