import { MongoClient, ObjectId } from '/work/main/node_modules/.pnpm/mongodb@6.20.0/node_modules/mongodb/lib/index.js'
const client = await MongoClient.connect('mongodb://127.0.0.1:27999/drv?directConnection=true')
const db = client.db('drv')
const users = db.collection('users')
const ids = (await users.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id)
const proj = { email: 1, name: 1, roles: 1, createdAt: 1, credentialVersion: 1 }
let k = 0
await Promise.all(Array.from({ length: 16 }, async () => { while (k < 20000) await users.findOne({ _id: ids[k++ % 200] }, { projection: proj }) }))
await client.close()
