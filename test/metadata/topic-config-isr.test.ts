// The ISR's topic configs: replica.lag.time.max.ms (at least 1 s: a healthy idle follower proves
// itself once per 500 ms parked fetch) and min.insync.replicas.
import t from 'tap'
import { checkTopicConfigs, topicConfigValue } from '../../src/metadata/topic-config.js'

t.test('replica.lag.time.max.ms: 10 s by default, at least 1 s', async (t) => {
  t.equal(topicConfigValue({}, 'replica.lag.time.max.ms'), '10000')
  t.equal(checkTopicConfigs({ 'replica.lag.time.max.ms': '1000' }), null)
  t.match(checkTopicConfigs({ 'replica.lag.time.max.ms': '500' }), /replica\.lag\.time\.max\.ms="500": must be an integer in \[1000, 3600000\]/)
  t.match(checkTopicConfigs({ 'min.insync.replicas': '0' }), /min\.insync\.replicas="0"/)
})
