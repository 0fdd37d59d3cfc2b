// Runs every test/broker/controller/scripts/*.txt scenario (test/script-files.ts; REWRITE=1 rewrites them).
import t from 'tap'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ControllerScript } from './harness.js'
import { runScriptFiles } from '../../script-files.js'

runScriptFiles(t, join(dirname(fileURLToPath(import.meta.url)), 'scripts'), () => new ControllerScript())
