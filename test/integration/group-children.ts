// Consumer-group members in their own processes (fixtures/group-member.mjs), for tests that
// SIGKILL them: each child's JSON event lines, parsed as they come, and its ownership events
// fed into an OwnershipLog.
import { spawn, type ChildProcess } from 'node:child_process'
import type { OwnershipLog } from './group-ownership.js'

const FIXTURE = new URL('./fixtures/group-member.mjs', import.meta.url).pathname

export interface MemberEvent {
  event: 'assigned' | 'revoked' | 'processed' | 'committed' | 'stalled'
  partitions?: number[]
  partition?: number
  offset?: number
  at: number
}

export interface MemberSpec {
  url: string
  topic: string
  groupId: string
  name: string
  sessionTimeoutMs: number
  mode: 'auto' | 'after' | 'before'
  stallAt?: number
}

export interface MemberProcess {
  name: string
  child: ChildProcess
  events: MemberEvent[]
  of(kind: MemberEvent['event']): MemberEvent[]
  kill(): Promise<void>
}

export function startMember(t: { teardown(fn: () => unknown): void }, spec: MemberSpec, log?: OwnershipLog): MemberProcess {
  const child = spawn(process.execPath, [FIXTURE, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: MemberEvent[] = []
  let partial = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      const e = JSON.parse(line) as MemberEvent
      events.push(e)
      if (log && (e.event === 'assigned' || e.event === 'revoked')) log.add({ member: spec.name, kind: e.event, partitions: e.partitions!, at: e.at })
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
    if (stderr.trim() !== '') console.error(`${spec.name} said on stderr:\n${stderr}`)
  })
  return {
    name: spec.name,
    child,
    events,
    of: (kind) => events.filter((e) => e.event === kind),
    kill: async () => {
      child.kill('SIGKILL')
      await exited
    },
  }
}
