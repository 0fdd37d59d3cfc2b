// Runs every test/broker/controller/scripts/*.txt scenario; REWRITE=1 regenerates expected
// outputs after an understood change (review the diff!).
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ControllerScript, parseScript, renderScript } from './harness.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), 'scripts')
const rewrite = process.env.REWRITE === '1'

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  t.test(file, async (t) => {
    const path = join(dir, file)
    const text = readFileSync(path, 'utf8')
    const script = new ControllerScript()
    const outputs = new Map<number, string>()
    for (const block of parseScript(text)) {
      const got = script.run(block.command)
      outputs.set(block.line, got)
      if (!rewrite) t.equal(got, block.expected ?? '', `${file}:${block.line} ${block.command}`)
    }
    if (rewrite) writeFileSync(path, renderScript(text, outputs))
  })
}
