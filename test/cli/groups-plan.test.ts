// groups reset-offsets' pure half: the mode and scope as typed, and the plan with clamping.
// The integration test (test/integration/groups-admin.test.ts) runs every mode against a broker.
import t from 'tap'
import { clampNote, parseDuration, parseResetMode, parseScope, planReset, type PartitionFacts } from '../../src/cli/groups-plan.js'

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0)

t.test('durations as Java\'s Duration (Kafka\'s --by-duration)', async (t) => {
  const cases: Array<[string, number]> = [
    ['P1D', 86_400_000], ['PT1H', 3_600_000], ['PT1H30M', 5_400_000], ['P2DT12H', 216_000_000], ['PT0.5S', 500], ['pt10m', 600_000], ['P0D', 0],
  ]
  for (const [text, ms] of cases) t.equal(parseDuration(text), ms, text)
  for (const bad of ['', 'P', 'PT', 'P1DT', 'P1H', 'PT1D', '1D', '-P1D', 'P1.5D', 'PT1.5555S', 'P1W', ' P1D']) {
    t.throws(() => parseDuration(bad), { name: 'UsageError', message: /--by-duration: expected an ISO 8601 duration/ }, `'${bad}'`)
  }
})

t.test('exactly one mode', async (t) => {
  t.strictSame(parseResetMode({ 'to-earliest': true }, NOW), { kind: 'earliest' })
  t.strictSame(parseResetMode({ 'to-latest': true }, NOW), { kind: 'latest' })
  t.strictSame(parseResetMode({ 'to-offset': '42' }, NOW), { kind: 'offset', offset: 42 })
  t.strictSame(parseResetMode({ 'shift-by': '-7' }, NOW), { kind: 'shift', by: -7 })
  t.strictSame(parseResetMode({ 'shift-by': '+7' }, NOW), { kind: 'shift', by: 7 })
  t.strictSame(parseResetMode({ 'to-datetime': '2026-12-05T11:00:00Z' }, NOW), { kind: 'time', timestamp: NOW - 3_600_000 })
  t.strictSame(parseResetMode({ 'by-duration': 'PT1H' }, NOW), { kind: 'time', timestamp: NOW - 3_600_000 })
  t.strictSame(parseResetMode({ 'by-duration': 'P100000D' }, NOW), { kind: 'time', timestamp: 0 }, 'never before the epoch')
  t.throws(() => parseResetMode({}, NOW), { name: 'UsageError', message: /give one reset mode: --to-earliest/ })
  t.throws(() => parseResetMode({ 'to-earliest': true, 'shift-by': '1' }, NOW), { name: 'UsageError', message: /not --to-earliest and --shift-by/ })
  t.throws(() => parseResetMode({ 'to-offset': '9007199254740993' }, NOW), { name: 'UsageError', message: /--to-offset: expected an offset/ })
  t.throws(() => parseResetMode({ 'shift-by': '1e3' }, NOW), { name: 'UsageError', message: /--shift-by: expected a signed integer/ })
  t.throws(() => parseResetMode({ 'to-datetime': '05/12/2026' }, NOW), { name: 'UsageError', message: /--to-datetime: expected an ISO 8601 date/ })
})

t.test('scope: TOPIC or TOPIC:P,P; the same topic twice merges', async (t) => {
  t.strictSame(parseScope(['a', 'b:2,0', 'b:1,2']), [{ topic: 'a', partitions: null }, { topic: 'b', partitions: [0, 1, 2] }])
  t.strictSame(parseScope(['a:1', 'a']), [{ topic: 'a', partitions: null }], 'the whole topic wins')
  t.strictSame(parseScope(['a', 'a:1']), [{ topic: 'a', partitions: null }])
  for (const bad of [':1', 'a:', 'a:1,', 'a:-1', 'a:1-3', 'a:99999999999']) t.throws(() => parseScope([bad]), { name: 'UsageError' }, bad)
})

t.test('the plan: each mode, clamped to [log start, log end] and said', async (t) => {
  const facts: PartitionFacts[] = [
    { topic: 'o', partition: 0, logStart: 10, logEnd: 50, committed: 20, atTime: 30 },
    { topic: 'o', partition: 1, logStart: 0, logEnd: 5, committed: -1, atTime: -1 },
  ]
  const offsets = (mode: Parameters<typeof planReset>[0]) => planReset(mode, facts.filter((f) => mode.kind !== 'shift' || f.committed >= 0)).map((p) => p.newOffset)
  t.strictSame(offsets({ kind: 'earliest' }), [10, 0])
  t.strictSame(offsets({ kind: 'latest' }), [50, 5])
  t.strictSame(offsets({ kind: 'offset', offset: 7 }), [10, 5], 'below the start of one, beyond the end of the other')
  t.strictSame(offsets({ kind: 'time', timestamp: 1 }), [30, 5], 'no record at or after the time: the log end')
  t.strictSame(offsets({ kind: 'shift', by: -15 }), [10])
  t.strictSame(offsets({ kind: 'shift', by: 5 }), [25])
  const [low, high] = planReset({ kind: 'offset', offset: 7 }, facts)
  t.strictSame(low.clamped, { requested: 7, to: 'log-start' })
  t.equal(clampNote(low), 'new offset 7 of o:0 is lower than the earliest offset: set to 10')
  t.equal(clampNote(high), 'new offset 7 of o:1 is higher than the latest offset: set to 5')
  t.equal(clampNote(planReset({ kind: 'latest' }, facts)[0]), null)
  t.equal(high.previousOffset, -1)
  t.throws(() => planReset({ kind: 'shift', by: 1 }, facts), { name: 'OperationalError', message: /cannot shift the offset of o:1: the group has no committed offset there/ }, 'nothing planned')
})
