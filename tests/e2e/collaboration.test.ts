import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  editText,
  firstGeneralConversation,
  openConversation,
  poll,
  row,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'
import type { Page } from 'playwright-core'

const shown = (page: Page, attributeId: string) =>
  row(page, attributeId).getByTestId('field-value').textContent()

const chosen = (page: Page, attributeId: string) =>
  row(page, attributeId).getByTestId('field-input').inputValue()

describe('two agents on one contact', () => {
  it(
    'shows both agents’ edits on both screens, and each sees the other here',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const cleo = await signIn(server, 'cleo')
      const conversation = await firstGeneralConversation(ben)
      await openConversation(ben, conversation)
      await openConversation(cleo, conversation)

      await poll(() => ben.locator('[data-testid=presence-user][data-user-id=cleo]').count()).toBe(
        1,
      )
      await poll(() => cleo.locator('[data-testid=presence-user][data-user-id=ben]').count()).toBe(
        1,
      )

      await editText(ben, 'notes', 'Prefers a call back after 5pm')
      await row(cleo, 'plan').getByTestId('field-input').selectOption('enterprise')

      for (const page of [ben, cleo]) {
        await poll(() => shown(page, 'notes')).toBe('Prefers a call back after 5pm')
        await poll(() => chosen(page, 'plan')).toBe('enterprise')
        await poll(() => page.getByTestId('save-status').getAttribute('data-state')).toBe('saved')
      }
      await screenshot(ben, 'contact-panel-two-agents')
    },
    E2E_TIMEOUT,
  )

  it(
    'shows a refused value with its reason and keeps the stored value',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await openConversation(ben, await firstGeneralConversation(ben))
      await row(ben, 'customer_id').getByTestId('field-value').click()
      const input = row(ben, 'customer_id').getByTestId('field-input')
      await input.fill('x'.repeat(1001))
      await input.press('Enter')
      await poll(() => row(ben, 'customer_id').getByTestId('field-error').count()).toBe(1)
      expect(await row(ben, 'customer_id').getByTestId('field-error').textContent()).toMatch(
        /long|characters/i,
      )
      await screenshot(ben, 'contact-panel-refusal')
    },
    E2E_TIMEOUT,
  )

  it(
    'keeps an edit made offline and delivers it to the other agent on reconnect',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const cleo = await signIn(server, 'cleo')
      const conversation = await firstGeneralConversation(ben)
      await openConversation(ben, conversation)
      await openConversation(cleo, conversation)
      await poll(() => cleo.getByTestId('save-status').getAttribute('data-state')).toBe('saved')

      await cleo.context().setOffline(true)
      await poll(() => cleo.getByTestId('save-status').getAttribute('data-state')).toBe('offline')
      await editText(cleo, 'notes', 'Written on the train')
      await poll(() => cleo.getByTestId('save-status').textContent()).toContain(
        'kept on this device',
      )
      expect(await shown(cleo, 'notes')).toBe('Written on the train')
      await screenshot(cleo, 'contact-panel-offline')
      // Ben's screen is live, but the edit has not left Cleo's browser.
      expect(await shown(ben, 'notes')).not.toBe('Written on the train')

      await cleo.context().setOffline(false)
      await poll(() => shown(ben, 'notes')).toBe('Written on the train')
      await poll(() => cleo.getByTestId('save-status').getAttribute('data-state')).toBe('saved')
    },
    E2E_TIMEOUT,
  )
})
