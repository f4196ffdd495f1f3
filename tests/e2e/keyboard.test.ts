import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { E2E_TIMEOUT, poll, queueOrder, screenshot, signIn, startDemoServer } from './harness'

/** What has the focus: its test id, else its tag. */
const focused = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const el = document.activeElement
    return el?.getAttribute('data-testid') ?? el?.tagName.toLowerCase() ?? ''
  })

const openConversationId = (page: Page): string =>
  decodeURIComponent(new URL(page.url()).pathname.replace(/^\/inbox\/?/, ''))

describe('the inbox by keyboard only', () => {
  it(
    'opens the help with ?, walks the queue with j and k, replies with r and sends with Ctrl+Enter',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await ben.getByTestId('queue-item').first().waitFor()
      const order = await queueOrder(ben)

      await ben.keyboard.press('?')
      const help = ben.getByTestId('shortcut-help')
      await help.waitFor()
      const listed = (await help.getByTestId('shortcut').allTextContents()).join('\n')
      for (const key of ['/', 'j', 'k', 'r', '?']) expect(listed).toContain(key)
      expect(await ben.getByRole('dialog').getAttribute('aria-labelledby')).toBe(
        'shortcut-help-title',
      )
      await screenshot(ben, 'keyboard-shortcuts')
      await ben.keyboard.press('Escape')
      await poll(() => help.count()).toBe(0)

      await ben.keyboard.press('/')
      await poll(() => focused(ben)).toBe('queue-item')
      await ben.keyboard.press('j')
      await poll(() => openConversationId(ben)).toBe(order[0])
      await ben.keyboard.press('j')
      await poll(() => openConversationId(ben)).toBe(order[1])
      await ben.keyboard.press('k')
      await poll(() => openConversationId(ben)).toBe(order[0])
      await ben.getByTestId('contact-panel').waitFor()

      await ben.keyboard.press('r')
      await poll(() => focused(ben)).toBe('reply-box')
      // Letters typed in the reply are text, not shortcuts.
      await ben.keyboard.type('Thanks, checking this now: just a moment')
      expect(openConversationId(ben)).toBe(order[0])
      await ben.keyboard.press('Control+Enter')
      await poll(() => ben.locator('.message.outbound .bubble').allTextContents()).toContain(
        'Thanks, checking this now: just a moment',
      )
      // Escape leaves the reply box, and the shortcuts work again.
      await ben.keyboard.press('Escape')
      await ben.keyboard.press('j')
      await poll(() => openConversationId(ben)).toBe(order[1])
    },
    E2E_TIMEOUT,
  )

  it(
    'reaches the reply box with Tab from the conversation opened in the queue',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      await ben.getByTestId('queue-item').first().waitFor()
      await ben.keyboard.press('/')
      await ben.keyboard.press('Enter')
      await ben.getByTestId('reply-box').waitFor()
      expect(await focused(ben)).toBe('queue-item')
      let reached = false
      for (let i = 0; i < 40 && !reached; i++) {
        await ben.keyboard.press('Tab')
        reached = (await focused(ben)) === 'reply-box'
      }
      expect(reached).toBe(true)
    },
    E2E_TIMEOUT,
  )
})
