#!/usr/bin/env node
// `npm test`'s build step: runs `npm run build` unless the last build is newer than every input.
// `npm ci` has just built (its `prepare`), so CI does not build twice; after an edit, it builds.
//   node scripts/build-if-stale.mjs          build if stale
//   node scripts/build-if-stale.mjs --stamp  record that a build just finished (the end of `npm run build`)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const STAMP = 'dist/.build-stamp'
/** What the build reads; generated files (src/codec/wasm-binary.ts, src/protocol/generated/) are written before the stamp. */
const INPUTS = ['assembly', 'src', 'proto', 'scripts', 'package.json', 'package-lock.json', 'asconfig.json', 'tsconfig.json']

function newestMtimeMs(path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)))
  return newest
}

if (process.argv.includes('--stamp')) {
  writeFileSync(STAMP, `${new Date().toISOString()}\n`)
} else {
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : -1
  const stale = INPUTS.filter((p) => existsSync(p) && newestMtimeMs(p) > built)
  if (stale.length === 0) {
    console.log(`build is current (${STAMP} is newer than ${INPUTS.join(', ')})`)
  } else {
    console.log(`building: ${built < 0 ? 'no build yet' : `changed since the last build: ${stale.join(', ')}`}`)
    const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' })
    process.exit(build.status ?? 1)
  }
}
