import { createCardfileServer, signToken } from '@cardfile/server'
import { createSqliteBackend } from '@cardfile/server/sqlite'
import { BENCH_ADMIN_ID, BENCH_AGENT_ID } from './contact-edits'
import { BENCH_WORKSPACE } from './ipc'
import type { BenchTokens } from './ipc'

/** Shared secret of the benchmark's throwaway server; it never leaves the loopback interface. */
const BENCH_SECRET = 'cardfile-bench-secret-not-for-production'

/**
 * Messages per second per connection. The default (100) is a policy against abusive clients;
 * the throughput phase floods on purpose to find what the relay sustains, so it is lifted here
 * and only here. Every other limit keeps its default.
 */
const BENCH_MESSAGES_PER_SECOND = 1_000_000

export interface RunningCardfile {
  readonly url: string
  readonly tokens: BenchTokens
  close(): Promise<void>
}

/**
 * Starts a Cardfile server on 127.0.0.1 with SQLite storage at `path` and mints the tokens the
 * benchmark's clients use.
 *
 * @example
 * const server = await startCardfile('/tmp/bench/bench.db')
 */
export async function startCardfile(path: string): Promise<RunningCardfile> {
  const backend = createSqliteBackend({ path })
  const server = await createCardfileServer({
    backend,
    auth: { secret: BENCH_SECRET },
    host: '127.0.0.1',
    port: 0,
    limits: { messagesPerSecond: BENCH_MESSAGES_PER_SECOND },
  })
  const token = (userId: string, role: 'admin' | 'agent'): Promise<string> =>
    signToken({ secret: BENCH_SECRET, userId, workspace: BENCH_WORKSPACE, role, expiresIn: '2h' })
  return {
    url: server.wsUrl,
    tokens: {
      agent: await token(BENCH_AGENT_ID, 'agent'),
      admin: await token(BENCH_ADMIN_ID, 'admin'),
    },
    close: async () => {
      await server.close()
      await backend.close()
    },
  }
}
