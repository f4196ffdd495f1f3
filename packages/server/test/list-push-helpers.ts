import {
  MessageTypes,
  encodeListSubscribe,
  encodeListUnsubscribe,
  readListInvalidation,
  readListState,
  schemaDocName,
} from '@cardfile/core'
import type { ListQuery, ListStateNotice } from '@cardfile/core'
import * as decoding from 'lib0/decoding'
import { connectSynced, expectPoll } from './sync-helpers'
import type { RawClient } from './sync-helpers'
import type { Extension, ExtensionContext } from '../src/extensions/extension'

/** What a list subscriber heard, in arrival order. */
export type ListEvent =
  | { readonly kind: 'invalidate'; readonly ids: readonly number[]; readonly row: unknown }
  | { readonly kind: 'state'; readonly notice: ListStateNotice }

/** A raw websocket client on a workspace's schema document that subscribes to lists. */
export interface ListSubscriber {
  readonly raw: RawClient
  readonly events: ListEvent[]
  /** Subscribes `query` under `id`; resolves with the server's answer (active or refused). */
  subscribe(id: number, query: ListQuery): Promise<ListStateNotice>
  unsubscribe(id: number): void
  /** Ids invalidated so far, flattened in arrival order. */
  invalidated(): number[]
  /** Waits until `id` was invalidated at least `times` times in all. */
  waitFor(id: number, times?: number): Promise<void>
  close(): void
}

/**
 * Connects a list subscriber: a raw Cardfile connection (`cardfile=1`) on the workspace's
 * schema document, with no SDK in between.
 *
 * @example
 * const agent = await listSubscriber(server, 'acme', token)
 * await agent.subscribe(1, { kind: 'vip' })
 */
export async function listSubscriber(
  server: { wsUrl: string },
  workspace: string,
  token: string,
  options: { cardfile?: boolean } = {},
): Promise<ListSubscriber> {
  const raw = await connectSynced(server, schemaDocName(workspace), token, options)
  const events: ListEvent[] = []
  raw.ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    const type = decoding.readVarUint(decoder)
    if (type === MessageTypes.ListInvalidate) {
      const { ids, row } = readListInvalidation(decoder)
      events.push({ kind: 'invalidate', ids, row })
    } else if (type === MessageTypes.ListState) {
      const notice = readListState(decoder)
      if (notice !== null) events.push({ kind: 'state', notice })
    }
  })
  const invalidated = (): number[] => events.flatMap((e) => (e.kind === 'invalidate' ? e.ids : []))
  return {
    raw,
    events,
    async subscribe(id, query) {
      const before = events.length
      raw.send(encodeListSubscribe({ id, query }))
      const answer = (): ListStateNotice | undefined =>
        events
          .slice(before)
          .flatMap((e) => (e.kind === 'state' && e.notice.id === id ? [e.notice] : []))[0]
      await expectPoll(() => answer() !== undefined)
      return answer()!
    },
    unsubscribe(id) {
      raw.send(encodeListUnsubscribe(id))
    },
    invalidated,
    async waitFor(id, times = 1) {
      await expectPoll(() => invalidated().filter((i) => i === id).length >= times, 10_000)
    },
    close: () => raw.close(),
  }
}

/** A job kind that moves only when the test says so (see {@link gatedJob}). */
export interface GatedJob {
  /** The extension to start the server with; it registers job kind `gated`. */
  readonly extension: Extension
  /** The extension's context, once the server started it. */
  context(): ExtensionContext
  /** True while the running job waits for {@link release}. */
  waiting(): boolean
  /** Lets the waiting job take its next step (throws when it is not waiting). */
  release(): void
}

/**
 * An extension with job kind `gated`, whose runs make `steps` progress steps (`{ done: i }`),
 * each once the test calls `release()`, and with `holdEnd` wait once more before they end:
 * every step is seen by the test, none is raced. Its view shows id, state and progress.
 *
 * @example
 * const gated = gatedJob(2, { holdEnd: true })
 * const server = await startServer({ extensions: [gated.extension] })
 * await expect.poll(() => gated.waiting()).toBe(true)
 * gated.release()
 */
export function gatedJob(steps: number, options: { holdEnd?: boolean } = {}): GatedJob {
  let step: (() => void) | null = null
  const next = () => new Promise<void>((resolve) => (step = resolve))
  let context: ExtensionContext | null = null
  return {
    extension: {
      name: 'gated-job',
      start(ctx) {
        context = ctx
        return {
          jobs: [
            {
              kind: 'gated',
              async run(job) {
                for (let i = 1; i <= steps; i++) {
                  await next()
                  await job.progress({ done: i })
                }
                if (options.holdEnd === true) await next()
                return { ok: true }
              },
              view: (job) => ({ id: job.id, status: job.state, progress: job.progress }),
            },
          ],
        }
      },
    },
    context() {
      if (context === null) throw new Error('the gated-job extension has not started')
      return context
    },
    waiting: () => step !== null,
    release() {
      const resume = step
      if (resume === null) throw new Error('the gated job is not waiting for a step')
      step = null
      resume()
    },
  }
}
