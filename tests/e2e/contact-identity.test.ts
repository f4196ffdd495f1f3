import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { E2E_TIMEOUT, poll, screenshot, signIn, startDemoServer } from './harness'

/** The queue row of the demo's X contact, Anna Karlsson (@anna_kar). */
const annaOnX = (page: Page) =>
  page.locator('[data-testid=queue-item][data-channel="x"]').filter({ hasText: 'Anna Karlsson' })

describe('who the agent is talking to', () => {
  it(
    'shows customers by their real names and handles in the queue, the header and the panel',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await annaOnX(ben).first().waitFor()
      expect(await annaOnX(ben).first().textContent()).toContain('@anna_kar')
      // Masked hints are for the deletion audit log only.
      const queueText = await ben.getByTestId('queue-item').allTextContents()
      expect(queueText.join('\n')).not.toContain('***')
      expect(queueText.join('\n')).toContain('Björn Lind')

      await annaOnX(ben).first().click()
      await ben.getByTestId('contact-panel').waitFor()
      await poll(() => ben.getByTestId('conversation-contact').textContent()).toBe('Anna Karlsson')
      expect(await ben.getByTestId('conversation-handle').textContent()).toContain('@anna_kar')
      await poll(() => ben.getByTestId('contact-name').textContent()).toBe('Anna Karlsson')
      expect(await ben.getByTestId('contact-handle').textContent()).toBe('@anna_kar')
      expect(await ben.getByTestId('contact-avatar').textContent()).toBe('AK')
      await screenshot(ben, 'contact-identity')
    },
    E2E_TIMEOUT,
  )

  it(
    'labels resolved conversations by when they were resolved, not as waiting',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await annaOnX(ben).first().click()
      await ben.getByTestId('contact-panel').waitFor()
      await ben.getByTestId('status-resolved').click()
      await ben.getByTestId('filter-resolved').click()
      const resolved = annaOnX(ben).first()
      await resolved.waitFor()
      await poll(() => resolved.textContent()).toContain('resolved just now')
      expect(await resolved.textContent()).not.toContain('waiting')
    },
    E2E_TIMEOUT,
  )
})
