// The public surface of the client, transport-agnostic: bring your own WebSocket factory.
// Most users import the Node entry (node.ts) or the browser bundle (browser.ts) instead, which
// re-export all of this with createClient's webSocketFactory filled in.
export { Client, createClient, type ClientOptions } from './client.js'
export { Producer, type ProducerOptions } from './producer.js'
export { Consumer, type ConsumerOptions, type FetchedBatch, type GroupOptions, type OffsetReset, type SeekTarget, type Subscription, type TopicPartition } from './consumer.js'
export {
  Admin, type ConfigEntry, type ConfigResource, type ConfigResult, type NewTopic, type OffsetSpec, type ResourceType,
  type ElectionResult, type ReassignmentResult, type TopicDescription, type TopicResult,
} from './admin.js'
export type { OffsetAnswer } from './offsets.js'
export type { PartitionReplicas, ReplicaState } from './replica-status.js'
export type { CommittedOffset, GroupDescription, GroupListing, GroupMemberDescription, OffsetToCommit, TopicPartitions } from './group-admin.js'
export type { QuorumBroker, QuorumDescription, QuorumReplica } from './quorum-admin.js'
export type { PartitionInfo, BrokerAddress } from './metadata.js'
export type { Acks } from './sender.js'
export type { RetryOptions, BackoffOptions } from './backoff.js'
export type { Bytes, ConsumerRecord, ProducerRecord, RecordMetadata } from './records.js'
export type { WebSocketFactory, WebSocketLike } from './transport.js'
export { BitacoraError, ClientError, isRetriableError, type ClientErrorCode } from './errors.js'
export { CodecError, type CompressionCodec, type RecordHeader } from '../codec/index.js'
export { murmur2, partitionForKey } from './partitioner.js'
