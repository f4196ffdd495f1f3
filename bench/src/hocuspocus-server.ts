import { Redis } from '@hocuspocus/extension-redis'
import { SQLite } from '@hocuspocus/extension-sqlite'
import { Server } from '@hocuspocus/server'
import type { Extension } from '@hocuspocus/server'
import { SignJWT, jwtVerify } from 'jose'
import { BENCH_ADMIN_ID, BENCH_AGENT_ID } from './contact-edits'
import { BENCH_SECRET, BENCH_WORKSPACE } from './ipc'
import type { BenchTokens } from './ipc'

/**
 * Runs without the workspace's `source` export condition (Hocuspocus publishes its own sources
 * under that name), so it imports nothing of Cardfile's.
 *
 * Hocuspocus 4.7, the peer the benchmark measures Cardfile against: `@hocuspocus/server` with
 * a JWT check in `onAuthenticate` (the same HS256 tokens as Cardfile's clients carry) and
 * - alone: `@hocuspocus/extension-sqlite` on `sqlitePath`, its durable single-process set-up
 *   (stores are debounced, 2 s by default, up to 10 s, so they are off the path of an edit);
 * - with BENCH_REDIS_URL set: `@hocuspocus/extension-redis`, so that several instances share
 *   documents as Hocuspocus documents recommend (no storage: each instance would keep its own).
 */
export async function startHocuspocus(sqlitePath?: string): Promise<{
  url: string
  tokens: BenchTokens
  close(): Promise<void>
}> {
  const key = new TextEncoder().encode(BENCH_SECRET)
  const redisUrl = process.env.BENCH_REDIS_URL
  const extensions: Extension[] =
    redisUrl === undefined
      ? sqlitePath === undefined
        ? []
        : [new SQLite({ database: sqlitePath })]
      : [
          new Redis({
            host: new URL(redisUrl).hostname,
            port: Number(new URL(redisUrl).port || 6379),
            prefix: process.env.BENCH_REDIS_PREFIX ?? 'hocuspocus-bench',
          }),
        ]
  const server = new Server({
    address: '127.0.0.1',
    port: 0,
    quiet: true,
    stopOnSignals: false,
    extensions,
    async onAuthenticate({ token }) {
      await jwtVerify(token, key)
    },
  })
  await server.listen()
  const token = (userId: string, role: 'admin' | 'agent'): Promise<string> =>
    new SignJWT({ workspace: BENCH_WORKSPACE, role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setExpirationTime('2h')
      .sign(key)
  return {
    url: `ws://127.0.0.1:${server.address.port}`,
    tokens: {
      agent: await token(BENCH_AGENT_ID, 'agent'),
      admin: await token(BENCH_ADMIN_ID, 'admin'),
    },
    close: () => server.destroy(),
  }
}
