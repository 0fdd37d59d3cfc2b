// Encoded RaftFrames packed into Request { raft: RaftFrames { frames, from, to } } messages of
// at most a peer's frame limit each. The frames were encoded once when queued (which bounds a
// peer's queue in exact bytes); here they are copied once into their message and never
// re-encoded. The bytes are exactly protobufjs's for the same RaftFrames (correlation id 0,
// defaults left out), which test/broker/net/peer-envelope.test.ts checks against the generated code.
import type { NodeId } from '../../raft/types.js'

const TAG_RAFT = [0xf2, 0x01] // Request.raft = 30, length-delimited
const TAG_FRAME = 0x0a // RaftFrames.frames = 1, length-delimited
const TAG_FROM = 0x10 // RaftFrames.from = 2, varint
const TAG_TO = 0x18 // RaftFrames.to = 3, varint

/** Bytes of a varint holding an unsigned value below 2^32. */
function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5
}

const frameFieldBytes = (frameBytes: number) => 1 + varintBytes(frameBytes) + frameBytes
const nodeFieldBytes = (id: NodeId) => (id === 0 ? 0 : 1 + varintBytes(id))
const messageBytes = (bodyBytes: number) => TAG_RAFT.length + varintBytes(bodyBytes) + bodyBytes

/** Whether a frame of `frameBytes` fits a message of at most `maxBytes` on its own. */
export function fitsOneMessage(frameBytes: number, from: NodeId, to: NodeId, maxBytes: number): boolean {
  return messageBytes(nodeFieldBytes(from) + nodeFieldBytes(to) + frameFieldBytes(frameBytes)) <= maxBytes
}

/**
 * The fewest messages that carry `frames` in order, each at most `maxBytes` (a greedy packing
 * is optimal for frames kept in order). Every frame must fit on its own (fitsOneMessage).
 */
export function packRaftFrames(from: NodeId, to: NodeId, frames: readonly Uint8Array[], maxBytes: number): Uint8Array[] {
  const ids = nodeFieldBytes(from) + nodeFieldBytes(to)
  const messages: Uint8Array[] = []
  let start = 0
  let body = ids
  for (let i = 0; i < frames.length; i++) {
    const field = frameFieldBytes(frames[i].length)
    if (messageBytes(ids + field) > maxBytes) throw new RangeError(`a ${frames[i].length}-byte raft frame does not fit a ${maxBytes}-byte message`)
    if (i > start && messageBytes(body + field) > maxBytes) {
      messages.push(writeMessage(from, to, frames, start, i, body))
      start = i
      body = ids
    }
    body += field
  }
  if (frames.length > start) messages.push(writeMessage(from, to, frames, start, frames.length, body))
  return messages
}

function writeMessage(from: NodeId, to: NodeId, frames: readonly Uint8Array[], start: number, end: number, body: number): Uint8Array {
  const out = new Uint8Array(messageBytes(body))
  let at = 0
  const varint = (v: number) => {
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    out[at++] = v
  }
  out[at++] = TAG_RAFT[0]
  out[at++] = TAG_RAFT[1]
  varint(body)
  for (let i = start; i < end; i++) {
    out[at++] = TAG_FRAME
    varint(frames[i].length)
    out.set(frames[i], at)
    at += frames[i].length
  }
  if (from !== 0) {
    out[at++] = TAG_FROM
    varint(from)
  }
  if (to !== 0) {
    out[at++] = TAG_TO
    varint(to)
  }
  if (at !== out.length) throw new Error(`raft message: wrote ${at} of ${out.length} bytes`)
  return out
}
