import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import {
  E2E_TIMEOUT,
  editText,
  firstGeneralConversation,
  openConversation,
  poll,
  resetDemoServer,
  signIn,
  startDemoServer,
} from './harness'
import type { DemoServer } from './harness'

const STALE = 'Written before the reset'

/**
 * What the server holds for a contact, read with a stock provider as an admin: the ids of its
 * custom values and whether it has a profile.
 */
async function serverContact(server: DemoServer, contactId: string) {
  const res = await fetch(`${server.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', role: 'admin', userId: 'ana' }),
  })
  const { token } = (await res.json()) as { token: string }
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(
    `ws://127.0.0.1:${server.port}`,
    `demo/contact/${contactId}`,
    doc,
    { params: { token }, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket },
  )
  try {
    await poll(() => provider.synced).toBe(true)
    return {
      custom: [...doc.getMap('custom').keys()].sort(),
      profile: doc.getMap('profile').size > 0,
    }
  } finally {
    provider.destroy()
    doc.destroy()
  }
}

describe('resetting the demo database', () => {
  it(
    'brings nothing back from a browser that had the old data cached and open',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await openConversation(ben, await firstGeneralConversation(ben))
      const contactId = (await ben.getByTestId('contact-panel').getAttribute('data-contact-id'))!
      await editText(ben, 'notes', STALE)
      await poll(() => ben.getByTestId('save-status').getAttribute('data-state')).toBe('saved')
      expect((await serverContact(server, contactId)).custom).toContain('notes')

      // The operator deletes the database while Ben's tab stays open on the contact.
      const fresh = await resetDemoServer(server)

      // The tab reconnects to the new database and drops what it had instead of uploading it.
      await poll(() => ben.getByText(STALE).count(), 30_000).toBe(0)
      expect(await serverContact(fresh, contactId)).toEqual({ custom: [], profile: false })

      // Nor does a reload bring it back from IndexedDB.
      await ben.reload()
      await ben.getByTestId('signed-in-as').waitFor()
      await poll(() => ben.getByTestId('queue-item').count()).toBeGreaterThan(0)
      expect(await ben.getByText(STALE).count()).toBe(0)
      expect(await serverContact(fresh, contactId)).toEqual({ custom: [], profile: false })

      // Everyone else sees the new database only.
      const cleo = await signIn(fresh, 'cleo')
      await openConversation(cleo, await firstGeneralConversation(cleo))
      expect(await cleo.getByText(STALE).count()).toBe(0)
    },
    E2E_TIMEOUT,
  )
})
