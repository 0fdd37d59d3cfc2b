// Topic administration through the metadata log: what the CreateTopics, DeleteTopics and
// AlterConfigs handlers call. On the active controller each request becomes one decision
// (topic-decisions.ts) whose records are appended and committed before it answers; then this
// node's replicas are reconciled with the image that holds them, so a created topic's local
// partitions exist and a deleted one's are gone when the answer leaves. Any other node answers
// NOT_CONTROLLER naming the controller; a node that forwarded a client's request there waits
// with `seen` until its own image and replicas show the change.
import type { MetadataImage } from '../../../metadata/image.js'
import { ErrorCode } from '../../../protocol/index.js'
import type { ReplicaManager } from '../../partition/replica-manager.js'
import type { ActiveController } from './active-controller.js'
import type { MetadataNode } from '../node/metadata-node.js'
import {
  alterConfigs, createTopics, deleteTopics, type AlterConfigsRequest, type CreateTopicsRequest, type TopicOutcome,
} from '../decisions/topic-decisions.js'

export { ControllerRequestError } from './request-error.js'
export type { CreatableTopic, ConfigChange, TopicOutcome } from '../decisions/topic-decisions.js'

export class TopicAdmin {
  constructor(
    private readonly node: MetadataNode,
    private readonly controller: ActiveController,
    private readonly replicas: Pick<ReplicaManager, 'reconciled' | 'replica'>,
  ) {}

  /** This node's committed image. */
  get image(): MetadataImage {
    return this.node.image
  }

  get nodeId(): number {
    return this.node.nodeId
  }

  /**
   * Resolves true once this node's image satisfies `shows` and its replicas are reconciled with
   * it (a change committed by the controller has reached this node); false after `timeoutMs`.
   */
  async seen(shows: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean> {
    if (!(await this.node.waitUntil(shows, timeoutMs))) return false
    await this.replicas.reconciled()
    return true
  }

  /** Creates each valid topic (one outcome per topic, in order). Rejects with a ControllerRequestError when the request as a whole fails. */
  createTopics(req: CreateTopicsRequest, timeoutMs: number): Promise<TopicOutcome[]> {
    return this.decideCreate(req, timeoutMs)
  }

  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<TopicOutcome[]> {
    const outcomes = await this.controller.submit((s, ctx) => deleteTopics(s, { names }, ctx), timeoutMs)
    await this.replicas.reconciled()
    return [...outcomes]
  }

  async alterConfigs(req: AlterConfigsRequest, timeoutMs: number): Promise<TopicOutcome[]> {
    return [...(await this.controller.submit((s, ctx) => alterConfigs(s, req, ctx), timeoutMs))]
  }

  private async decideCreate(req: CreateTopicsRequest, timeoutMs: number): Promise<TopicOutcome[]> {
    if (req.topics.length === 0) return []
    const outcomes = await this.controller.submit((s, ctx) => createTopics(s, req, ctx), timeoutMs)
    await this.replicas.reconciled()
    return outcomes.map((o) => (o.error === null && o.topicId !== null ? this.checkOpened(o.name, o.topicId) : o))
  }

  /** A created topic's outcome, or why it is not usable here: partitions assigned to this broker that failed to open. */
  private checkOpened(name: string, topicId: string): TopicOutcome {
    const topic = this.node.image.topicById(topicId)
    const self = this.node.nodeId
    const missing = (topic?.partitionStates ?? []).flatMap((p, i) => (p.replicas.includes(self) && this.replicas.replica(topicId, i) === undefined ? [i] : []))
    if (topic === undefined || missing.length === 0) return { name, topicId, error: null }
    return {
      name, topicId,
      error: {
        code: ErrorCode.KAFKA_STORAGE_ERROR,
        message: `topic "${name}" was created, but its partitions ${missing.join(', ')} could not be opened on broker ${self} (its log says why); they are opened again with the next metadata change`,
      },
    }
  }
}
