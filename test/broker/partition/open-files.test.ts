import t from 'tap'
import { openFilesLimit, ownOpenFilesLimit } from '../../../src/broker/partition/open-files.js'

const limits = (soft: string) => [
  'Limit                     Soft Limit           Hard Limit           Units     ',
  'Max processes             63704                63704                processes ',
  `Max open files            ${soft.padEnd(20)} 1048576              files     `,
  'Max locked memory         8388608              8388608              bytes     ',
].join('\n')

t.test('the soft open-file limit, from /proc/PID/limits', async (t) => {
  t.equal(openFilesLimit(limits('1024')), 1024)
  t.equal(openFilesLimit(limits('unlimited')), null)
  t.equal(openFilesLimit('nothing like it'), null)
  const own = ownOpenFilesLimit()
  t.ok(own === null || (Number.isSafeInteger(own) && own > 0), `this process's: ${own}`)
})
