// What a broker sends the controller about the partitions it leads (controller/node/
// leader-reporter.ts): one request per event-loop turn, the newest epoch per partition, nothing
// the committed image already records, everything again to a new controller, and a failed
// request sent again. The controller's side (recording reports that are news) is
// decisions/reports.ts, with scenario scripts; the two together run in
// test/integration/quorum-client.test.ts.
import t from 'tap'
import { MetadataImage, type MetadataRecord } from '../../../src/metadata/image.js'
import { uuidHex } from '../../../src/metadata/uuid.js'
import { ErrorCode, type bitacora, type ResponseProps } from '../../../src/protocol/index.js'
import { LeaderReporter } from '../../../src/broker/controller/node/leader-reporter.js'
import { LEADER_REPORTS_PER_REQUEST_MAX } from '../../../src/broker/controller/decisions/limits.js'
import { quietLog, waitFor } from './wait.js'

const topicId = (n: number) => n.toString(16).padStart(32, '0')

function imageWith(partitions: number, leaderEpoch = -1): MetadataImage {
  const records: MetadataRecord[] = [{ type: 'topic', name: 'orders', topicId: topicId(1) }]
  for (let index = 0; index < partitions; index++) {
    records.push({ type: 'partition', topicId: topicId(1), index, replicas: [1] })
    if (leaderEpoch >= 0) records.push({ type: 'partitionLeader', topicId: topicId(1), partition: index, leader: 1, leaderEpoch })
  }
  return MetadataImage.EMPTY.apply(records)
}

/** The controller channel's side, recorded: each request's reports as `partition@epoch`, answered by `answer`. */
function controllerRecording(answer: () => ResponseProps = () => ({ leaderReports: {} })) {
  const requests: string[][] = []
  return {
    requests,
    send: async (_api: 'leaderReports', body: bitacora.ILeaderReportsRequest) => {
      requests.push((body.reports ?? []).map((r) => `${uuidHex(r.topicId!) === topicId(1) ? '' : '?'}${r.partition}@${r.leaderEpoch}`))
      return answer()
    },
  }
}

t.test('leaderships won in one turn go in one request, the newest epoch per partition', async (t) => {
  const controller = controllerRecording()
  let image = imageWith(4)
  const reporter = new LeaderReporter({ brokerId: 1, controller, image: () => image, log: quietLog })
  t.teardown(() => reporter.close())
  for (let p = 0; p < 4; p++) reporter.led({ topicId: topicId(1), partition: p, leaderEpoch: 1 })
  reporter.led({ topicId: topicId(1), partition: 2, leaderEpoch: 3 })
  reporter.led({ topicId: topicId(1), partition: 2, leaderEpoch: 2 }) // older than the one queued: dropped
  await waitFor(() => reporter.pendingCount === 0, 'the reports to be answered')
  t.same(controller.requests, [['0@1', '1@1', '2@3', '3@1']])

  image = imageWith(4, 1) // recorded now
  reporter.resendAll([0, 1].map((partition) => ({ topicId: topicId(1), partition, leaderEpoch: 1 })))
  reporter.led({ topicId: topicId(2), partition: 0, leaderEpoch: 1 }) // a topic this image does not have (deleted)
  await new Promise((resolve) => setImmediate(resolve))
  await waitFor(() => reporter.pendingCount === 0, 'the reports to be dropped')
  t.equal(controller.requests.length, 1, 'what the image records, and reports about unknown topics, are not sent')

  reporter.resendAll([0, 1].map((partition) => ({ topicId: topicId(1), partition, leaderEpoch: 2 })))
  await waitFor(() => reporter.pendingCount === 0, 'the new epochs to be answered')
  t.same(controller.requests.at(-1), ['0@2', '1@2'], 'a new controller hears every leadership the image does not record')
})

t.test('a failed request is sent again after a pause; a restart of many partitions is split at the request limit', async (t) => {
  let failures = 1
  const controller = controllerRecording(() => failures-- > 0
    ? { error: { code: ErrorCode.REQUEST_TIMED_OUT, message: 'no controller answered' } }
    : { leaderReports: {} })
  const partitions = LEADER_REPORTS_PER_REQUEST_MAX + 5
  const image = imageWith(partitions)
  const reporter = new LeaderReporter({ brokerId: 1, controller, image: () => image, log: quietLog, retryMs: 20 })
  t.teardown(() => reporter.close())
  for (let p = 0; p < partitions; p++) reporter.led({ topicId: topicId(1), partition: p, leaderEpoch: 1 })
  await waitFor(() => reporter.pendingCount === 0, 'every report to be answered')
  t.same(controller.requests.map((r) => r.length), [LEADER_REPORTS_PER_REQUEST_MAX, LEADER_REPORTS_PER_REQUEST_MAX, 5], 'the failed first request sent again whole, then the rest')
  t.same(controller.requests[0], controller.requests[1])
})

t.test('ISR changes: offered every check, sent when they differ from the recorded ISR, each partition at most once per interval', async (t) => {
  const requests: string[] = []
  let image = MetadataImage.EMPTY.apply([
    { type: 'topic', name: 'orders', topicId: topicId(1) },
    { type: 'partition', topicId: topicId(1), index: 0, replicas: [1, 2, 3] },
    { type: 'partitionLeader', topicId: topicId(1), partition: 0, leader: 1, leaderEpoch: 4 },
  ])
  const controller = {
    send: async (_api: 'leaderReports', body: bitacora.ILeaderReportsRequest) => {
      for (const r of body.reports ?? []) {
        requests.push(`${r.partition}@${r.leaderEpoch}:${(r.isr ?? []).join(',')}`)
        // The controller records it (as decisions/reports.ts would), and the image shows it.
        image = image.apply([{ type: 'partitionLeader', topicId: topicId(1), partition: 0, leader: 1, leaderEpoch: r.leaderEpoch!, isr: r.isr! }])
      }
      return { leaderReports: {} }
    },
  }
  let nowMs = 0
  let isr = [1, 2, 3]
  const reporter = new LeaderReporter({ brokerId: 1, controller, image: () => image, log: quietLog, isrCheckMs: 5, isrReportMinIntervalMs: 1_000, now: () => nowMs })
  t.teardown(() => reporter.close())
  reporter.watchIsr(() => [{ topicId: topicId(1), partition: 0, leaderEpoch: 4, isr }])
  const checks = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 6))
  }
  await checks(5)
  t.same(requests, [], 'an ISR equal to the one the image shows (the replicas, none reported) is not sent')
  isr = [1, 3]
  await waitFor(() => requests.length === 1, 'the shrink to be sent')
  t.same(requests, ['0@4:1,3'])
  t.same(image.topic('orders')!.partitionStates[0].isr, [1, 3])
  await checks(5)
  t.equal(requests.length, 1, 'the recorded ISR is not sent again')
  isr = [1, 2, 3]
  nowMs = 500
  await checks(5)
  t.equal(requests.length, 1, 'a change within ISR_REPORT_MIN_INTERVAL_MS of the last waits')
  nowMs = 1_000
  await waitFor(() => requests.length === 2, 'the expansion to be sent after the interval')
  t.same(requests.at(-1), '0@4:1,2,3')
})
