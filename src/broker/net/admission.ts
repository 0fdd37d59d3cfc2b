// Which new TCP connections the broker takes: at most connectionsMax in all, and at most
// connectionsPerIpMax from one remote address (loopback exempt by default: the CLI, tests and
// other brokers of a local cluster all come from 127.0.0.1). Counts every accepted socket,
// upgraded or not, so sockets that never speak cannot pass the limits either. Pure accounting.

export interface AdmissionLimits {
  readonly connectionsMax: number
  readonly connectionsPerIpMax: number
  readonly limitLoopbackConnections: boolean
}

export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly status: 503; readonly reason: string }

const ADMITTED: Admission = { admitted: true }

export class ConnectionAdmission {
  private total = 0
  private readonly perIp = new Map<string, number>()

  constructor(private readonly limits: AdmissionLimits) {}

  get connections(): number {
    return this.total
  }

  /** Takes a slot for a connection from `ip`, or says why not. Every admitted one must be `release`d. */
  admit(ip: string): Admission {
    if (this.total >= this.limits.connectionsMax) {
      return { admitted: false, status: 503, reason: `the broker has its maximum of ${this.limits.connectionsMax} connections (--max-connections)` }
    }
    const fromIp = this.perIp.get(ip) ?? 0
    if (fromIp >= this.limits.connectionsPerIpMax && (this.limits.limitLoopbackConnections || !isLoopback(ip))) {
      return { admitted: false, status: 503, reason: `${ip} has its maximum of ${this.limits.connectionsPerIpMax} connections (--max-connections-per-ip)` }
    }
    this.total++
    this.perIp.set(ip, fromIp + 1)
    return ADMITTED
  }

  release(ip: string): void {
    const fromIp = this.perIp.get(ip) ?? 0
    if (fromIp <= 0) throw new Error(`release(${ip}) without a connection: accounting bug`)
    this.total--
    if (fromIp === 1) this.perIp.delete(ip)
    else this.perIp.set(ip, fromIp - 1)
  }
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')
}
