// Writes a run's results: <out>/<stamp>.json, <stamp>.md with <stamp>-*.svg charts beside it,
// and latest.md with latest-*.svg (the copies meant to be committed).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { charts } from './charts.js'
import { markdown } from './markdown.js'
import type { PerfResults } from './types.js'

export function writeReport(results: PerfResults, outDir: string): string[] {
  const stamp = results.date.replace(/[:.]/g, '-')
  const written: string[] = []
  const put = (name: string, text: string) => {
    const file = join(outDir, name)
    writeFileSync(file, text)
    written.push(file)
  }
  put(`${stamp}.json`, JSON.stringify(results, null, 2))
  const svgs = charts(results)
  for (const prefix of [stamp, 'latest']) {
    const refs = svgs.map((c) => ({ title: c.title, file: `${prefix}-${c.name}.svg` }))
    for (const c of svgs) put(`${prefix}-${c.name}.svg`, c.svg)
    put(`${prefix}.md`, markdown(results, refs))
  }
  return written
}
