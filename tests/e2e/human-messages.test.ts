import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  firstGeneralConversation,
  openConversation,
  poll,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

describe('what the workspace says to people', () => {
  it(
    'says the server is unreachable in a sentence, not with the browser’s fetch error',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await firstGeneralConversation(ben)
      await ben.context().setOffline(true)
      const notice = ben.getByTestId('queue-error')
      await notice.waitFor()
      const text = (await notice.textContent()) ?? ''
      expect(text).toContain(
        "Can't reach the server. Your changes are kept and will sync when it's back.",
      )
      expect(text).not.toMatch(/TypeError|Failed to fetch/)
      await poll(() => ben.getByTestId('connection').textContent()).toContain('Offline')
      await screenshot(ben, 'inbox-offline-message')
    },
    E2E_TIMEOUT,
  )

  it(
    'confirms a deletion by the contact’s name once the contact is gone',
    async () => {
      const server = await startDemoServer()
      const ana = await signIn(server, 'ana')
      const conversation = await firstGeneralConversation(ana)
      await openConversation(ana, conversation)
      const name = (await ana.getByTestId('contact-name').textContent()) ?? ''
      expect(name).not.toBe('')
      await ana.getByTestId('delete-contact').click()
      await ana.getByTestId('confirm-delete').click()
      const flash = ana.getByTestId('flash-message')
      await flash.waitFor()
      expect(await flash.textContent()).toContain(`${name} was deleted.`)
      await poll(() => ana.getByTestId('contact-panel').count()).toBe(0)
      await screenshot(ana, 'contact-deleted-confirmation')
    },
    E2E_TIMEOUT,
  )

  it(
    'shows an agent who opens the settings a page saying only admins can change them',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      for (const path of ['/settings', '/exports', '/deleted-contacts']) {
        await ben.goto(`${server.url}${path}`)
        await ben.getByTestId('admin-only').waitFor()
        expect(await ben.getByRole('heading', { level: 1 }).textContent()).toMatch(
          /^Only admins can /,
        )
        if (path === '/settings') await screenshot(ben, 'settings-agent')
      }
      expect(await ben.getByRole('heading', { level: 1 }).textContent()).not.toContain('forbidden')
      await ben.goto(`${server.url}/settings`)
      expect(await ben.getByRole('heading', { level: 1 }).textContent()).toBe(
        'Only admins can change settings',
      )
      await ben.getByRole('link', { name: 'Back to the inbox' }).click()
      await firstGeneralConversation(ben)
      expect(new URL(ben.url()).pathname).toBe('/inbox')
    },
    E2E_TIMEOUT,
  )
})
