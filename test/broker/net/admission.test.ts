import t from 'tap'
import { ConnectionAdmission, isLoopback } from '../../../src/broker/net/admission.js'
import { REFUSAL_LOG_INTERVAL_MS } from '../../../src/broker/limits.js'
import { RefusalLog } from '../../../src/broker/net/refusal-log.js'

t.test('total and per-address caps; loopback exempt unless asked', async (t) => {
  const a = new ConnectionAdmission({ connectionsMax: 4, connectionsPerIpMax: 2, limitLoopbackConnections: false })
  t.ok(a.admit('10.0.0.1').admitted)
  t.ok(a.admit('10.0.0.1').admitted)
  const third = a.admit('10.0.0.1')
  t.notOk(third.admitted)
  t.match(!third.admitted && third.reason, /10\.0\.0\.1 has its maximum of 2 connections \(--max-connections-per-ip\)/)
  t.ok(a.admit('127.0.0.1').admitted, 'loopback is not capped per address')
  t.ok(a.admit('::1').admitted)
  const full = a.admit('10.0.0.2')
  t.match(!full.admitted && full.reason, /maximum of 4 connections \(--max-connections\)/)
  a.release('10.0.0.1')
  t.ok(a.admit('10.0.0.1').admitted, 'a released slot is free again')
  t.equal(a.connections, 4)
  t.throws(() => a.release('10.9.9.9'), /accounting bug/)

  const strict = new ConnectionAdmission({ connectionsMax: 10, connectionsPerIpMax: 1, limitLoopbackConnections: true })
  t.ok(strict.admit('127.0.0.1').admitted)
  t.notOk(strict.admit('127.0.0.1').admitted, 'loopback capped when limitLoopbackConnections')
})

t.test('isLoopback', async (t) => {
  for (const ip of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(ip), ip)
  for (const ip of ['10.0.0.1', '::ffff:10.0.0.1', '1.127.0.0']) t.notOk(isLoopback(ip), ip)
})

t.test('refusals are logged at once, then summed up once per interval', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  let now = 1_000_000
  const log = { info() {}, error() {}, warn: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, ...fields }) }
  const refusals = new RefusalLog(log, () => now)
  for (let i = 0; i < 1000; i++) refusals.refused('limit', { remote: `10.0.0.${i % 7}` })
  refusals.refused('origin', { origin: 'http://evil.example' })
  t.equal(lines.length, 2, 'one line for the first of each kind')
  refusals.flush()
  t.equal(lines.length, 3)
  t.match(lines[2], { msg: 'connections refused', kind: 'limit', count: 999 })
  now += REFUSAL_LOG_INTERVAL_MS
  refusals.refused('limit', {})
  t.equal(lines.length, 4, 'a new interval logs the next refusal at once')
})
