// A broker's lifecycle decisions (src/broker/controller/decisions/lifecycle-state.ts) as scenario scripts
// in lifecycle-scripts/*.txt, in the manner of the controller's: each command feeds the pure
// core one input at a time MS and prints what it asked for, then when it next wants to wake.
// REWRITE=1 regenerates expected outputs after an understood change (review the diff!).
//
//   config heartbeat=MS fenced-heartbeat=MS lease=MS backoff=MIN..MAX   (before start)
//   start at=MS
//   tick at=MS
//   answer fenced|unfenced at=MS          the controller's answer to the request in flight
//   answer CODE at=MS                     its error (an ErrorCode name; retriable as the error table says)
//   stop
import t from 'tap'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LifecycleState, type LifecycleConfig, type LifecycleOutput } from '../../../src/broker/controller/decisions/lifecycle-state.js'
import { ErrorCode, errorName, isRetriable } from '../../../src/protocol/index.js'
import { runScriptFiles } from '../../script-files.js'

class LifecycleScript {
  private config: LifecycleConfig = { heartbeatIntervalMs: 2000, fencedHeartbeatIntervalMs: 200, leaseMs: 9000, retryBackoffMsMin: 100, retryBackoffMsMax: 5000 }
  private core: LifecycleState | null = null

  run(command: string): string {
    const [name, ...args] = command.split(/\s+/)
    const at = Number(args.find((a) => a.startsWith('at='))?.slice(3) ?? NaN)
    const rest = args.filter((a) => !a.startsWith('at='))
    try {
      switch (name) {
        case 'config':
          return this.configure(rest)
        case 'start':
          this.core = new LifecycleState(this.config)
          return this.show(this.core.start(at))
        case 'tick':
          return this.show(this.lifecycle().tick(at))
        case 'answer': {
          const what = rest[0]
          if (what === 'fenced' || what === 'unfenced') return this.show(this.lifecycle().answered(at, { ok: true, fenced: what === 'fenced' }))
          const code = ErrorCode[what as keyof typeof ErrorCode]
          if (code === undefined) throw new Error(`unknown error code ${what}`)
          return this.show(this.lifecycle().answered(at, { ok: false, code, message: `(${what})`, retriable: isRetriable(code) }))
        }
        case 'stop':
          this.lifecycle().stop()
          return this.show([])
        default:
          throw new Error(`unknown command ${name}`)
      }
    } catch (e) {
      return `error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`
    }
  }

  private configure(options: string[]): string {
    const get = (key: string) => options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1)
    const backoff = get('backoff')?.split('..').map(Number)
    const c = this.config
    const config = {
      heartbeatIntervalMs: Number(get('heartbeat') ?? c.heartbeatIntervalMs),
      fencedHeartbeatIntervalMs: Number(get('fenced-heartbeat') ?? c.fencedHeartbeatIntervalMs),
      leaseMs: Number(get('lease') ?? c.leaseMs),
      retryBackoffMsMin: backoff?.[0] ?? c.retryBackoffMsMin,
      retryBackoffMsMax: backoff?.[1] ?? c.retryBackoffMsMax,
    }
    new LifecycleState(config) // refuses a bad config here
    this.config = config
    return ''
  }

  private lifecycle(): LifecycleState {
    if (this.core === null) throw new Error('not started')
    return this.core
  }

  private show(outputs: readonly LifecycleOutput[]): string {
    const lines = outputs.map((o) => {
      switch (o.kind) {
        case 'register':
        case 'heartbeat':
          return `send ${o.kind}`
        case 'fenced':
          return `${o.fenced ? 'fenced' : 'unfenced'}: ${o.reason}`
        case 'failed':
          return `${o.request} failed: ${errorName(o.code)}${o.retriable ? '' : ' (not retriable)'}, ${o.failures} in a row; again in ${o.retryInMs} ms`
        case 'recovered':
          return `answered again after ${o.failures} failures`
      }
    })
    const wake = this.lifecycle().nextWakeMs()
    const s = this.lifecycle().status()
    const next = wake !== null ? `wake at ${wake}` : s.waiting ? 'wake on answer' : 'no wake'
    lines.push(`${s.phase}${s.fenced ? ' fenced' : ''}; lease ${s.leaseEndsAtMs === null ? 'none' : `to ${s.leaseEndsAtMs}`}; ${next}`)
    return lines.join('\n')
  }
}

runScriptFiles(t, join(dirname(fileURLToPath(import.meta.url)), 'lifecycle-scripts'), () => new LifecycleScript())
