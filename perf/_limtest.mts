import { measureWebSocket } from './limits/websocket.js'
import { cleanupAll } from './processes.js'
for (let i = 0; i < 2; i++) { const r = await measureWebSocket(1); console.log(r.bandwidthClientToServer, r.bandwidthServerToClient) }
await cleanupAll()
