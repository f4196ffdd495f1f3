import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  cspViolations,
  firstGeneralConversation,
  openConversation,
  poll,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

describe('the workspace as a local-first app', () => {
  it(
    'reloads while offline into the cached workspace with the contact opened before',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const conversation = await firstGeneralConversation(ben)
      await openConversation(ben, conversation)
      const name = (await ben.getByTestId('contact-name').textContent()) ?? ''
      expect(name).not.toBe('')
      await poll(() => ben.getByTestId('save-status').getAttribute('data-state')).toBe('saved')
      // The app-shell worker controls the page once it has cached the built files.
      await poll(() => ben.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true)

      const worker = await ben.request.get(`${server.url}/sw.js`)
      expect(worker.headers()['content-type']).toMatch(/^text\/javascript/)
      expect(worker.headers()['cache-control']).toBe('no-cache')

      await ben.context().setOffline(true)
      await ben.reload()
      await ben.getByTestId('signed-in-as').waitFor()
      expect(new URL(ben.url()).pathname).toBe(`/inbox/${conversation}`)
      await poll(() => ben.getByTestId('contact-name').textContent()).toBe(name)
      await poll(() => ben.getByTestId('conversation-contact').textContent()).toBe(name)
      await poll(() => ben.getByTestId('connection').textContent()).toContain('Offline')
      // The queue as last loaded, marked as such, and the network named as the cause.
      await poll(() => ben.getByTestId('queue-item').count()).toBeGreaterThan(0)
      expect(await ben.getByTestId('queue-error').textContent()).toContain(
        "Showing the queue as last loaded. Can't reach the server.",
      )
      const panel = (await ben.getByTestId('contact-panel').textContent()) ?? ''
      expect(panel).not.toMatch(/sign-in|access token|went wrong on the server/i)
      expect(await cspViolations(ben)).toEqual([])
      await screenshot(ben, 'offline-reload')
    },
    E2E_TIMEOUT,
  )
})
