#!/usr/bin/env node
// Generates static protobuf code from proto/bitacora.proto into src/protocol/generated/
// (never loaded from .proto at runtime). pbts reads the JSDoc of a commented build for the
// types; the shipped JavaScript is then regenerated without comments to stay small.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'

const out = 'src/protocol/generated'
mkdirSync(out, { recursive: true })
const common = ['-t', 'static-module', '-w', 'esm', '--force-number', '--no-delimited', '--no-typeurl',
  '--no-service', '--no-convert', '--no-verify']
const run = (cmd, args) => execFileSync('npx', [cmd, ...args], { stdio: 'inherit' })
run('pbjs', [...common, '-o', `${out}/bitacora.js`, 'proto/bitacora.proto'])
run('pbts', ['--no-comments', '-o', `${out}/bitacora.d.ts`, `${out}/bitacora.js`])
run('pbjs', [...common, '--no-comments', '-o', `${out}/bitacora.js`, 'proto/bitacora.proto'])
