import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  E2E_TIMEOUT,
  firstGeneralConversation,
  ingest,
  openConversation,
  poll,
  queueOrder,
  signIn,
  startDemoServer,
} from './harness'

/** Counts the HTTP API requests a page makes for lists (the queue, contacts, groups). */
function listRequests(page: Page): () => number {
  let count = 0
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname
    if (/^\/api\/demo\/(conversations|contacts|groups|queue)/.test(path)) count += 1
  })
  return () => count
}

const item = (page: Page, conversationId: string) =>
  page.locator(`[data-testid=queue-item][data-conversation-id="${conversationId}"]`)

describe('live lists in the browser, with polling only every five minutes', () => {
  it(
    "shows another agent's new conversation, VIP mark and status change in the queue without polling",
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const requests = listRequests(ben)
      const cleo = await signIn(server, 'cleo')
      const first = await firstGeneralConversation(ben)
      await firstGeneralConversation(cleo)

      // Cleo opening a conversation changes no list: Ben's browser asks for none meanwhile.
      await poll(() => ben.getByTestId('queue-item').count()).toBeGreaterThan(0)
      const idleFrom = requests()
      await openConversation(cleo, first)
      await cleo.getByTestId('reply-box').waitFor()
      expect(requests() - idleFrom).toBe(0)

      // A new person writes in: the conversation shows in Ben's queue.
      const fresh = await ingest(server, 'webchat', 'visitor-live-1', 'Hello from the website')
      await poll(() => queueOrder(ben)).toContain(fresh)

      // Cleo marks the contact of the first conversation VIP: Ben sees the marker.
      await cleo.getByTestId('vip-toggle').click()
      await poll(() => item(ben, first).getByTestId('vip-marker').count()).toBe(1)

      // Cleo resolves it: it leaves Ben's open queue.
      await cleo.getByTestId('status-resolved').click()
      await poll(() => queueOrder(ben)).not.toContain(first)
      // Three changes, each fetched once or twice per list shown (queue and contacts), where
      // the old 1.5 s polling fetched both lists on every tick of the whole test.
      expect(requests() - idleFrom).toBeLessThanOrEqual(12)
    },
    E2E_TIMEOUT,
  )

  it(
    "shows the re-link another admin's matching-attribute change starts, to done, without polling",
    async () => {
      const server = await startDemoServer()
      const watcher = await signIn(server, 'ana')
      await watcher.goto(`${server.url}/settings`)
      const relink = watcher.getByTestId('relink')
      await relink.waitFor()
      // The same admin in another browser: a separate client, as another admin's would be.
      const editor = await signIn(server, 'ana')
      await editor.goto(`${server.url}/settings`)
      await editor.getByTestId('matching-attribute').selectOption('notes')
      await poll(() => relink.getByTestId('relink-outcome').textContent()).toMatch(
        /^Re-linked by Notes .*: \d+ contacts, \d+ changed\.$/,
      )
      expect(await relink.getAttribute('data-state')).toBe('done')
    },
    E2E_TIMEOUT,
  )
})
