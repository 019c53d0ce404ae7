import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Coverage } from './coverage.js'

/** Something to fuzz: bytes in, and either a normal return or a documented rejection. */
export interface FuzzTarget {
  name: string
  /** Well-formed and interesting inputs to start from. */
  seeds: Buffer[]
  /** Tokens the mutator splices in: magic numbers, keywords, delimiters. */
  dictionary?: Buffer[]
  maxLength: number
  /** Scripts whose coverage guides the search (by URL). */
  covers: (url: string) => boolean
  /** Runs one input. May throw only what `isRejection` accepts. */
  run(input: Buffer): Promise<void> | void
  /** The documented rejection path (e.g. the parser's ProtocolError). */
  isRejection?(error: unknown): boolean
  /** Invariants checked every `checkEvery` runs and at the end (the server is alive...). */
  check?(): Promise<void>
  checkEvery?: number
  /** Target-specific counts for the report. */
  notes?(): string
  /**
   * A structure-aware mutation (tried for half the inputs): returns undefined when the input
   * has no structure it understands, and the byte-level mutator is used instead.
   */
  mutate?(input: Buffer, rand: () => number): Buffer | undefined
  close?(): Promise<void>
}

export interface FuzzOptions {
  seed: number
  /** Wall-clock budget. */
  timeMs: number
  /** Optional bound on runs. */
  maxRuns?: number
  /** Where interesting inputs are kept between runs, and crashes written. */
  corpusDir?: string
  /** Stop at the first crash (CI). */
  stopOnCrash?: boolean
  /** Called before each run with the input, so a watchdog can name the one that hangs. */
  onInput?: (input: Buffer) => void
  onProgress?: (stats: FuzzStats) => void
}

export interface Crash {
  input: Buffer
  error: string
}

export interface FuzzStats {
  target: string
  runs: number
  corpus: number
  features: number
  rejections: number
  crashes: Crash[]
  elapsedMs: number
}

/** mulberry32: small, fast, seedable; the whole run is reproducible from the seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const interesting32 = [
  0, 1, -1, 16, 21, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
  -0x80000000, 48_000_000, 48_000_001,
]

/** Havoc-style mutations, AFL/libFuzzer's usual set, plus dictionary and crossover. */
export function mutate(
  input: Buffer,
  rand: () => number,
  corpus: readonly Buffer[],
  dictionary: readonly Buffer[],
  maxLength: number,
): Buffer {
  const pick = (n: number) => Math.floor(rand() * n)
  let out = Buffer.from(input)
  const rounds = 1 + pick(4)
  for (let r = 0; r < rounds; r++) {
    const at = out.length > 0 ? pick(out.length) : 0
    switch (pick(11)) {
      case 0: // flip a bit
        if (out.length > 0) out[at] = (out[at] ?? 0) ^ (1 << pick(8))
        break
      case 1: // random byte
        if (out.length > 0) out[at] = pick(256)
        break
      case 2: {
        // interesting 8/16/32-bit value, little-endian
        const value = interesting32[pick(interesting32.length)] ?? 0
        const width = [1, 2, 4][pick(3)] ?? 4
        if (at + width <= out.length) {
          if (width === 1) out.writeUInt8(value & 0xff, at)
          else if (width === 2) out.writeUInt16LE(value & 0xffff, at)
          else out.writeInt32LE(value | 0, at)
        }
        break
      }
      case 3: // insert random bytes
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))),
          out.subarray(at),
        ])
        break
      case 4: {
        // delete a range
        const length = 1 + pick(Math.max(1, Math.min(16, out.length - at)))
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + length)])
        break
      }
      case 5: {
        // duplicate a range
        const length = 1 + pick(Math.max(1, Math.min(32, out.length - at)))
        out = Buffer.concat([
          out.subarray(0, at + length),
          out.subarray(at, at + length),
          out.subarray(at + length),
        ])
        break
      }
      case 6:
      case 7: {
        // dictionary token: overwrite or insert
        const token = dictionary[pick(dictionary.length)]
        if (!token) break
        out =
          pick(2) === 0
            ? Buffer.concat([out.subarray(0, at), token, out.subarray(at + token.length)])
            : Buffer.concat([out.subarray(0, at), token, out.subarray(at)])
        break
      }
      case 8: {
        // crossover with another corpus entry
        const other = corpus[pick(corpus.length)]
        if (!other || other.length === 0) break
        const from = pick(other.length)
        out = Buffer.concat([
          out.subarray(0, at),
          other.subarray(from, from + 1 + pick(other.length - from)),
        ])
        break
      }
      case 9: // truncate
        out = out.subarray(0, at)
        break
      default: {
        // arithmetic on a byte
        if (out.length > 0) out[at] = ((out[at] ?? 0) + (pick(35) - 17)) & 0xff
      }
    }
  }
  return out.length > maxLength ? out.subarray(0, maxLength) : out
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)
}

const sha = (input: Buffer) => createHash('sha1').update(input).digest('hex')

/**
 * Coverage-guided fuzzing: runs the seeds and any saved corpus, then mutates corpus entries;
 * an input that reaches a block (or a hit-count class of a block) never reached before joins
 * the corpus. An exception other than the target's documented rejection is a crash.
 */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzStats> {
  const rand = random(options.seed)
  const coverage = new Coverage(target.covers)
  const seen = new Set<string>()
  const corpus: Buffer[] = []
  const crashes: Crash[] = []
  const dictionary = target.dictionary ?? []
  const started = Date.now()
  let runs = 0
  let rejections = 0
  const corpusDir = options.corpusDir ? join(options.corpusDir, target.name) : undefined
  const crashDir = options.corpusDir ? join(options.corpusDir, 'crashes', target.name) : undefined
  if (corpusDir) mkdirSync(corpusDir, { recursive: true })

  const stats = (): FuzzStats => ({
    target: target.name,
    runs,
    corpus: corpus.length,
    features: seen.size,
    rejections,
    crashes,
    elapsedMs: Date.now() - started,
  })

  async function execute(input: Buffer, keep: boolean): Promise<void> {
    options.onInput?.(input)
    runs++
    try {
      await target.run(input)
    } catch (error) {
      if (target.isRejection?.(error)) rejections++
      else {
        crashes.push({ input, error: describeError(error) })
        if (crashDir) {
          mkdirSync(crashDir, { recursive: true })
          writeFileSync(join(crashDir, sha(input)), input)
        }
      }
    }
    let fresh = false
    for (const feature of coverage.take()) {
      if (!seen.has(feature)) {
        seen.add(feature)
        fresh = true
      }
    }
    if (fresh || keep) {
      corpus.push(input)
      if (corpusDir && fresh) writeFileSync(join(corpusDir, sha(input)), input)
    }
  }

  coverage.start()
  try {
    const saved = corpusDir
      ? readdirSync(corpusDir).map((name) => readFileSync(join(corpusDir, name)))
      : []
    coverage.take()
    for (const input of [...target.seeds, ...saved]) await execute(input, true)
    const checkEvery = target.checkEvery ?? 500
    let lastProgress = Date.now()
    while (Date.now() - started < options.timeMs && runs < (options.maxRuns ?? Infinity)) {
      if (options.stopOnCrash && crashes.length > 0) break
      // Newer entries found new behaviour most recently: pick them a little more often.
      const index = Math.floor(corpus.length * Math.sqrt(rand()))
      const parent = corpus[Math.min(index, corpus.length - 1)] ?? Buffer.alloc(0)
      const structured = rand() < 0.5 ? target.mutate?.(parent, rand) : undefined
      await execute(structured ?? mutate(parent, rand, corpus, dictionary, target.maxLength), false)
      if (runs % checkEvery === 0) await target.check?.()
      if (Date.now() - lastProgress > 5000) {
        lastProgress = Date.now()
        options.onProgress?.(stats())
      }
    }
    await target.check?.()
  } finally {
    coverage.stop()
  }
  return stats()
}
