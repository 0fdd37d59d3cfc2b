// Encoded RaftFrames packed into Request { raft: RaftFrames { frames, from, to } } messages of
// at most a peer's frame limit each. The frames were encoded once when queued (which bounds a
// peer's queue in exact bytes); here they are copied once into their message and never
// re-encoded. The bytes are exactly protobufjs's for the same RaftFrames (correlation id 0,
// defaults left out), which test/broker/net/peer-envelope.test.ts checks against the generated code.
// A large frame with room before it (a leader's records for a follower: raft-wire.ts) is not
// copied: it goes in a message of its own, the envelope written into that room, from and to
// before the frame (protobuf readers take fields in any order).
import type { NodeId } from '../../raft/types.js'
import { extendIntoRoom, roomBefore } from '../partition/read-buffers.js'

const TAG_RAFT = [0xf2, 0x01] // Request.raft = 30, length-delimited
const TAG_FRAME = 0x0a // RaftFrames.frames = 1, length-delimited
const TAG_FROM = 0x10 // RaftFrames.from = 2, varint
const TAG_TO = 0x18 // RaftFrames.to = 3, varint

/** Bytes of a varint holding an unsigned value below 2^32. */
function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5
}

/**
 * Frames of at least this many bytes, with room before them, travel in a message of their own
 * without a copy; smaller ones are cheaper to copy than to send alone (a message costs ~10 µs).
 */
export const IN_PLACE_FRAME_BYTES_MIN = 64 * 1024

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
    const inPlace = frames[i].length >= IN_PLACE_FRAME_BYTES_MIN && roomBefore(frames[i]) >= messageBytes(ids + field) - frames[i].length
    if (i > start && (inPlace || messageBytes(body + field) > maxBytes)) {
      messages.push(writeMessage(from, to, frames, start, i, body))
      start = i
      body = ids
    }
    if (inPlace) {
      messages.push(writeInPlace(from, to, frames[i], ids + field))
      start = i + 1
      continue
    }
    body += field
  }
  if (frames.length > start) messages.push(writeMessage(from, to, frames, start, frames.length, body))
  return messages
}

/** One frame's message, its envelope written into the room before it: from and to, then the frame. */
function writeInPlace(from: NodeId, to: NodeId, frame: Uint8Array, body: number): Uint8Array {
  const out = extendIntoRoom(frame, messageBytes(body) - frame.length)
  let at = 0
  const varint = (v: number) => (at = putVarint(out, at, v))
  out[at++] = TAG_RAFT[0]
  out[at++] = TAG_RAFT[1]
  varint(body)
  if (from !== 0) {
    out[at++] = TAG_FROM
    varint(from)
  }
  if (to !== 0) {
    out[at++] = TAG_TO
    varint(to)
  }
  out[at++] = TAG_FRAME
  varint(frame.length)
  if (at + frame.length !== out.length) throw new Error(`raft message: a ${out.length - frame.length}-byte envelope took ${at} bytes`)
  return out
}

function writeMessage(from: NodeId, to: NodeId, frames: readonly Uint8Array[], start: number, end: number, body: number): Uint8Array {
  const out = new Uint8Array(messageBytes(body))
  let at = 0
  const varint = (v: number) => (at = putVarint(out, at, v))
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

/** Writes `v` (below 2^32) as a varint at `at`; returns the offset after it. */
function putVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  out[at++] = v
  return at
}
