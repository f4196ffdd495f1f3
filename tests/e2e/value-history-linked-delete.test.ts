import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  E2E_TIMEOUT,
  editText,
  openConversation,
  poll,
  row,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

/** The id of the queue's conversation on a channel (the demo has one X contact, linked by email). */
async function conversationOn(page: Page, channel: string): Promise<string> {
  const item = page.locator(`[data-testid=queue-item][data-channel="${channel}"]`)
  await item.first().waitFor()
  return (await item.first().getAttribute('data-conversation-id')) ?? ''
}

const changesOf = (page: Page, attributeId: string): Promise<string[]> =>
  row(page, attributeId)
    .getByTestId('value-change')
    .evaluateAll((items) => items.map((i) => i.textContent ?? ''))

describe('the contact panel: value history and deleting a person everywhere', () => {
  it(
    'shows who changed a value and from what, live, under the attribute',
    async () => {
      const server = await startDemoServer()
      const ana = await signIn(server, 'ana')
      const ben = await signIn(server, 'ben')
      const x = await conversationOn(ana, 'x')
      await openConversation(ana, x)
      await openConversation(ben, x)

      await row(ana, 'notes').getByTestId('value-history').locator('summary').click()
      await poll(() => row(ana, 'notes').getByText('No changes yet.').count()).toBe(1)
      await editText(ben, 'notes', 'Prefers email')
      await poll(() => changesOf(ana, 'notes')).toEqual([
        expect.stringMatching(/^empty → Prefers email by ben \(agent\)/),
      ])
      await editText(ben, 'notes', 'Prefers phone')
      await poll(async () => (await changesOf(ana, 'notes'))[0]).toMatch(
        /^Prefers email → Prefers phone by ben \(agent\)/,
      )
      // A dropdown shows option labels; the demo admin set the plan when seeding.
      await row(ana, 'plan').getByTestId('value-history').locator('summary').click()
      await poll(async () => (await changesOf(ana, 'plan'))[0]).toMatch(
        /^empty → Enterprise by ana \(admin\)/,
      )
      await screenshot(ana, 'contact-panel-value-history')
    },
    E2E_TIMEOUT,
  )

  it(
    'offers to delete the linked contacts too, lists them, and erases every one',
    async () => {
      const server = await startDemoServer()
      const ana = await signIn(server, 'ana')
      const x = await conversationOn(ana, 'x')
      await openConversation(ana, x)
      await ana.getByTestId('delete-contact').click()
      await ana.getByTestId('delete-linked').waitFor()
      const listed = await ana
        .getByTestId('delete-linked-contact')
        .evaluateAll((items) => items.map((i) => i.textContent ?? ''))
      expect(listed).toHaveLength(1)
      expect(listed[0]).toContain('Email')
      await ana.getByTestId('delete-linked-toggle').check()
      await screenshot(ana, 'contact-panel-delete-linked-confirm')
      await ana.getByTestId('confirm-delete').click()

      // Both conversations of the person leave the queue; the log has one record per contact.
      await poll(() => ana.locator('[data-testid=queue-item][data-channel="x"]').count()).toBe(0)
      await poll(() =>
        ana
          .locator('[data-testid=queue-item]')
          .filter({ hasText: 'anna.karlsson@example.com' })
          .count(),
      ).toBe(0)
      await ana.getByRole('link', { name: 'Deleted contacts' }).click()
      await poll(() => ana.getByTestId('deleted-contact').count()).toBe(2)
    },
    E2E_TIMEOUT,
  )
})
