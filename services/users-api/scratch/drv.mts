import { MongoClient, ObjectId } from '/work/main/node_modules/.pnpm/mongodb@6.20.0/node_modules/mongodb/lib/index.js'
const client = await MongoClient.connect('mongodb://127.0.0.1:27999/drv?directConnection=true')
const db = client.db('drv')
const users = db.collection('users'); const sessions = db.collection('sessions')
await users.deleteMany({}); await sessions.deleteMany({})
const ids: ObjectId[] = []
for (let i = 0; i < 200; i++) { const _id = new ObjectId(); ids.push(_id); await users.insertOne({ _id, email: `u${i}@x.test`, name: 'N', roles: ['user'], createdAt: new Date(), credentialVersion: 0 }); await sessions.insertOne({ _id: 's' + i, userId: _id, expiresAt: new Date(Date.now() + 1e9), createdAt: new Date(), credentialVersion: 0 }) }
async function measure(label: string, n: number, conc: number, f: (i: number) => Promise<unknown>) {
  for (let w = 0; w < 500; w++) await f(w)
  const t = process.cpuUsage(); let k = 0
  await Promise.all(Array.from({ length: conc }, async () => { while (k < n) await f(k++) }))
  const d = process.cpuUsage(t); console.log(label.padEnd(30), ((d.user + d.system) / n).toFixed(1), 'µs/op')
}
const proj = { email: 1, name: 1, roles: 1, createdAt: 1, credentialVersion: 1 }
for (let r = 0; r < 2; r++) {
await measure('findOne x2 parallel', 5000, 16, (i) => Promise.all([sessions.findOne({ _id: 's' + (i % 200), userId: ids[i % 200], expiresAt: { $gt: new Date() } }, { projection: { credentialVersion: 1 } }), users.findOne({ _id: ids[i % 200] }, { projection: proj })]))
await measure('findOne x1', 5000, 16, (i) => users.findOne({ _id: ids[i % 200] }, { projection: proj }))
await measure('command find x1', 5000, 16, (i) => db.command({ find: 'users', filter: { _id: ids[i % 200] }, projection: proj, limit: 1, singleBatch: true }))
await measure('aggregate lookup x1', 5000, 16, (i) => sessions.aggregate([{ $match: { _id: 's' + (i % 200) } }, { $lookup: { from: 'users', localField: 'userId', foreignField: '_id', as: 'u' } }]).toArray().catch(() => null))
}
await client.close()
