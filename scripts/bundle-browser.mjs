#!/usr/bin/env node
// Bundles the browser client (src/client/browser.ts) into one ES module,
// dist/browser/bitacora.js, with the WASM codec inside (embedded as base64 by the build, so
// no loader or extra file is needed). Fails if anything in the bundle reaches for a Node
// built-in: the client must stay platform-free.
import { build } from 'esbuild'
import { mkdirSync } from 'node:fs'

mkdirSync('dist/browser', { recursive: true })
const result = await build({
  entryPoints: ['src/client/browser.ts'],
  outfile: 'dist/browser/bitacora.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
})
const inputs = Object.keys(result.metafile.inputs)
const nodeOnly = inputs.filter((p) => p.startsWith('node:') || /(^|\/)node_modules\/ws\//.test(p))
if (nodeOnly.length > 0) {
  console.error(`browser bundle pulls in Node-only modules: ${nodeOnly.join(', ')}`)
  process.exit(1)
}
const bytes = result.metafile.outputs['dist/browser/bitacora.js'].bytes
console.log(`dist/browser/bitacora.js: ${(bytes / 1024).toFixed(0)} KiB from ${inputs.length} inputs`)
