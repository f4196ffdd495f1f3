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
