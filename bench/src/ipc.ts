/** Messages between the benchmark (parent) and a server child process. */

/** Which server a child runs. */
export type ServerKind = 'cardfile' | 'bare' | 'hocuspocus'

/** Tokens a Cardfile child mints for the benchmark's clients (absent for the bare relay). */
export interface BenchTokens {
  /** Agent token: the clients that edit and observe contacts. */
  readonly agent: string
  /** Admin token: seeds the workspace schema. */
  readonly admin: string
}

export interface ReadyMessage {
  readonly type: 'ready'
  readonly url: string
  readonly tokens: BenchTokens | null
}

export interface MemorySample {
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
}

export interface CpuSample {
  /** process.cpuUsage() user + system, microseconds. */
  readonly user: number
  readonly system: number
}

export type Request =
  | { readonly id: number; readonly kind: 'memory' }
  | { readonly id: number; readonly kind: 'cpu' }
  | { readonly id: number; readonly kind: 'stop' }

export type Reply =
  | { readonly type: 'reply'; readonly id: number; readonly memory: MemorySample }
  | { readonly type: 'reply'; readonly id: number; readonly cpu: CpuSample }
  | { readonly type: 'reply'; readonly id: number; readonly stopped: true }
  | { readonly type: 'reply'; readonly id: number; readonly error: string }

export type ChildMessage = ReadyMessage | Reply

/** The workspace every benchmark document lives in. */
export const BENCH_WORKSPACE = 'bench'

/** Shared secret of the benchmark's throwaway servers; it never leaves the loopback interface. */
export const BENCH_SECRET = 'cardfile-bench-secret-not-for-production'
