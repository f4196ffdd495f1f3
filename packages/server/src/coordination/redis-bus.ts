import type { Redis } from 'ioredis'
import type { ClusterBus } from '../cluster/cluster-bus'

/** How long an instance stays listed after its last heartbeat, and its inbox kept. */
const INSTANCE_TTL_MS = 15_000
const HEARTBEAT_MS = 3_000
/** How long one blocking read waits before it is issued again. */
const BLOCK_MS = 2_000
/** Inboxes are trimmed to about this many entries (a reader normally keeps them near empty). */
const INBOX_MAX = '50000'

/**
 * The cluster bus on Redis Streams: one stream per instance (its inbox), read by that instance
 * with a blocking `XREAD`, written by the others with `XADD … NOMKSTREAM` so that a message for
 * an instance that is gone does not bring its inbox back. Streams keep what was sent while the
 * reader reconnects; what a restarted Redis lost is reported through `onResync`.
 */
export function createRedisBus(
  connect: () => Redis,
  prefix: string,
  report: (error: Error) => void,
): ClusterBus {
  const writer = connect()
  writer.on('error', report)
  const instancesKey = `${prefix}:instances`
  const inboxOf = (id: string): string => `${prefix}:inbox:${id}`
  let reader: Redis | null = null
  let stopped = false
  let heartbeat: ReturnType<typeof setInterval> | null = null
  let instanceId = ''
  let deliver: (message: Uint8Array) => void = () => undefined

  /** Creates this instance's inbox (again, after a Redis restart) and lists the instance. */
  const announce = async (): Promise<string> => {
    const inbox = inboxOf(instanceId)
    const [[, id]] = (await writer
      .multi()
      .xadd(inbox, 'MAXLEN', '~', INBOX_MAX, '*', 'h', '1')
      .pexpire(inbox, INSTANCE_TTL_MS * 4)
      .zadd(instancesKey, Date.now(), instanceId)
      .exec()) as [[null, string]]
    return id
  }

  const readLoop = async (from: string, onResync: () => void): Promise<void> => {
    let last = from
    let lost = false
    while (!stopped && reader !== null) {
      try {
        if (lost) {
          last = await announce()
          lost = false
          onResync()
        }
        const answer = (await reader.xreadBuffer(
          'COUNT',
          1000,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          inboxOf(instanceId),
          last,
        )) as [Buffer, [Buffer, Buffer[]][]][] | null
        if (answer === null) {
          // A timeout: check the inbox still exists (a restarted Redis has none).
          if ((await writer.exists(inboxOf(instanceId))) === 0) lost = true
          continue
        }
        for (const [, entries] of answer) {
          for (const [id, fields] of entries) {
            last = id.toString()
            if (fields[0]?.toString() !== 'm' || fields[1] === undefined) continue
            try {
              deliver(fields[1])
            } catch (error) {
              report(error as Error)
            }
          }
        }
      } catch (error) {
        if (stopped) return
        report(error as Error)
        lost = true
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  }

  return {
    async start(id, onMessage, onResync) {
      instanceId = id
      deliver = onMessage
      if (writer.status !== 'ready') await writer.connect()
      reader = connect()
      reader.on('error', report)
      await reader.connect()
      const from = await announce()
      heartbeat = setInterval(() => {
        void writer
          .multi()
          .pexpire(inboxOf(instanceId), INSTANCE_TTL_MS * 4)
          .zadd(instancesKey, Date.now(), instanceId)
          .zremrangebyscore(instancesKey, 0, Date.now() - INSTANCE_TTL_MS)
          .exec()
          .catch(report)
      }, HEARTBEAT_MS)
      heartbeat.unref()
      void readLoop(from, onResync)
    },
    send(to, message) {
      writer
        .xadd(inboxOf(to), 'NOMKSTREAM', 'MAXLEN', '~', INBOX_MAX, '*', 'm', Buffer.from(message))
        .catch(report)
    },
    async broadcast(message) {
      const live = await writer.zrangebyscore(instancesKey, Date.now() - INSTANCE_TTL_MS, '+inf')
      for (const id of live) if (id !== instanceId) this.send(id, message)
      deliver(message)
    },
    async stop() {
      if (stopped) return
      stopped = true
      if (heartbeat !== null) clearInterval(heartbeat)
      if (instanceId !== '') {
        await writer
          .multi()
          .del(inboxOf(instanceId))
          .zrem(instancesKey, instanceId)
          .exec()
          .catch(() => undefined)
      }
      reader?.disconnect()
      reader = null
      await writer.quit().catch(() => undefined)
    },
  }
}
