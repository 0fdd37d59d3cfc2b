// Scenario scripts in the manner of etcd's testdata/: each block is a command, optionally
// followed by `----` and the output it must produce. `runScriptFiles` runs every `*.txt` of a
// folder against a fresh runner per file; REWRITE=1 writes the outputs back instead (after an
// understood change: review the diff). Used by the Raft core's, the controller's and the broker
// lifecycle's scripts.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'

export interface Block {
  readonly command: string
  readonly expected: string | null
  readonly line: number
}

/** Splits a script into blocks: `command` lines, each optionally followed by `----` and output. */
export function parseScript(text: string): Block[] {
  const lines = text.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#')) continue
    if (lines[i + 1]?.trim() === '----') {
      const out: string[] = []
      let j = i + 2
      while (j < lines.length && lines[j].trim() !== '') out.push(lines[j++])
      blocks.push({ command: line, expected: out.join('\n'), line: i + 1 })
      i = j
    } else {
      blocks.push({ command: line, expected: null, line: i + 1 })
    }
  }
  return blocks
}

/** Renders blocks back to script text with the given outputs (the rewrite flag). */
export function renderScript(text: string, outputs: ReadonlyMap<number, string>): string {
  const lines = text.split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const produced = outputs.get(i + 1)
    const hasBlock = lines[i + 1]?.trim() === '----'
    if (line.trim() === '' || line.trim().startsWith('#') || (produced === undefined && !hasBlock)) {
      out.push(line)
      continue
    }
    out.push(line)
    let j = i + 1
    if (hasBlock) {
      j = i + 2
      while (j < lines.length && lines[j].trim() !== '') j++
    }
    if (produced !== undefined && produced !== '') out.push('----', ...produced.split('\n'))
    i = j - 1
  }
  return out.join('\n')
}

/** Runs each `*.txt` script in `dir` as a subtest of `t`, each against `newRunner()`. */
export function runScriptFiles(t: Test, dir: string, newRunner: () => { run(command: string): string }): void {
  const rewrite = process.env.REWRITE === '1'
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    t.test(file, async (t) => {
      const path = join(dir, file)
      const text = readFileSync(path, 'utf8')
      const runner = newRunner()
      const outputs = new Map<number, string>()
      for (const block of parseScript(text)) {
        const got = runner.run(block.command)
        outputs.set(block.line, got)
        if (!rewrite) t.equal(got, block.expected ?? '', `${file}:${block.line} ${block.command}`)
      }
      if (rewrite) writeFileSync(path, renderScript(text, outputs))
    })
  }
}
