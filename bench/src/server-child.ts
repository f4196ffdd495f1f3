import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type {
  BenchTokens,
  ChildMessage,
  CpuSample,
  MemorySample,
  Reply,
  Request,
  ServerKind,
} from './ipc'

/** A server running in its own child process, measured from outside. */
export interface ServerChild {
  readonly kind: ServerKind
  readonly url: string
  readonly tokens: BenchTokens | null
  /** Memory of the child after garbage collection. */
  memory(): Promise<MemorySample>
  /** Cumulative CPU time of the child. */
  cpu(): Promise<CpuSample>
  /** Stops the server and waits for the child to exit (killing it if it will not). */
  stop(): Promise<void>
}

const REQUEST_TIMEOUT_MS = 30_000
const START_TIMEOUT_MS = 30_000

/**
 * Starts `server-process.ts` in a child `node --expose-gc --import tsx`. The `source` export
 * condition makes `@cardfile/server` resolve to its TypeScript sources, so the benchmark runs
 * the code in the checkout (tsx compiles it with esbuild, as the build does).
 *
 * @example
 * const child = await startServerChild('bare')
 * console.log((await child.memory()).heapUsed)
 * await child.stop()
 */
export function startServerChild(
  kind: ServerKind,
  /** Environment variables of the child beyond this process's (a cluster's shared services). */
  env: Record<string, string> = {},
): Promise<ServerChild> {
  const entry = fileURLToPath(new URL('./server-process.ts', import.meta.url))
  const child = fork(entry, [kind], {
    // Every server runs from its build, as in production (`npm run bench` builds Cardfile
    // first): from its TypeScript sources, Cardfile's CPU figures would count the compiling of
    // each module it loads lazily. The bench's own modules are TypeScript, loaded through tsx.
    execArgv: [
      '--expose-gc',
      // BENCH_CPU_PROF=<dir>: a V8 CPU profile of every server thread, written when it stops.
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  })
  const pending = new Map<number, (reply: Reply) => void>()
  let nextId = 1
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const request = <T>(kind: Request['kind'], pick: (reply: Reply) => T | undefined): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`server child did not answer ${kind} within ${REQUEST_TIMEOUT_MS} ms`))
      }, REQUEST_TIMEOUT_MS)
      pending.set(id, (reply) => {
        clearTimeout(timer)
        const value = pick(reply)
        if (value !== undefined) resolve(value)
        else reject(new Error('error' in reply ? reply.error : `unexpected reply to ${kind}`))
      })
      child.send({ id, kind } satisfies Request)
    })

  return new Promise<ServerChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${kind} server child did not start within ${START_TIMEOUT_MS} ms`))
    }, START_TIMEOUT_MS)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${kind} server child exited with ${code}`))
    })
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'reply') {
        pending.get(message.id)?.(message)
        pending.delete(message.id)
        return
      }
      clearTimeout(timer)
      resolve({
        kind,
        url: message.url,
        tokens: message.tokens,
        memory: () => request('memory', (reply) => ('memory' in reply ? reply.memory : undefined)),
        cpu: () => request('cpu', (reply) => ('cpu' in reply ? reply.cpu : undefined)),
        stop: () => stopChild(child, exited, () => request('stop', () => true)),
      })
    })
  })
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  askToStop: () => Promise<boolean>,
): Promise<void> {
  if (child.exitCode !== null) return
  await askToStop().catch(() => false)
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(killTimer)
}
