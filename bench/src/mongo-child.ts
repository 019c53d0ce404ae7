import { resolveMongo } from '@users-auth/dev-mongo'

// MongoDB for the bench in a process of its own, as it would be in production: whatever the
// workspace resolves (MONGODB_URI, a local mongod, else the in-memory mongo-lite server).
// Sends `{ backend, uri }` over IPC once it answers; stops on SIGTERM.
const mongo = await resolveMongo({
  env: process.env,
  log: (line) => process.stderr.write(`${line}\n`),
})
process.send?.({ backend: mongo.backend, uri: mongo.uri })

const stop = (): void => {
  mongo.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
// An external MongoDB leaves nothing running here: a message listener keeps the IPC channel,
// and so this process, alive until it is stopped.
process.on('message', () => undefined)
