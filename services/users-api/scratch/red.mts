import { Redis } from 'ioredis'
const r = new Redis({ host: '127.0.0.1', port: 6379, keyPrefix: 'scratch-bench:' })
await r.set('a', 'x'); await r.set('b', 'y')
async function measure(label: string, n: number, conc: number, f: (i: number) => Promise<unknown>) {
  for (let w = 0; w < 500; w++) await f(w)
  const t = process.cpuUsage(); let k = 0
  await Promise.all(Array.from({ length: conc }, async () => { while (k < n) { k++; await f(k) } }))
  const d = process.cpuUsage(t); console.log(label.padEnd(30), ((d.user + d.system) / n).toFixed(1), 'µs/op')
}
for (let i = 0; i < 2; i++) {
await measure('get', 20000, 16, () => r.get('a'))
await measure('mget', 20000, 16, () => r.mget('a', 'b'))
await measure('get conc1', 5000, 1, () => r.get('a'))
}
await r.del('a', 'b'); r.disconnect()
