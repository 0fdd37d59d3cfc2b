// The one promise-chain lock lives in storage (storage/serial.ts). This re-export keeps
// controller/topic-admin.ts building until it imports it from there; then delete this file.
export { Serial } from '../../storage/index.js'
