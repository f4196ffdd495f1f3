import { describe, expect, it } from 'vitest'
import { E2E_TIMEOUT, poll, screenshot, signIn, startDemoServer } from './harness'

describe('the inbox contact search', () => {
  it(
    'finds a contact by handle or name as the agent types and opens their conversation and panel',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const box = ben.getByTestId('contact-search')
      const results = ben.getByTestId('contact-search-result')
      const channels = () =>
        results.evaluateAll((items) => items.map((i) => i.getAttribute('data-channel')))

      // The handle is her X contact's exact value, so it ranks first; her email contact
      // (anna.karlsson@…) has words starting with "anna" and "kar" too.
      await box.fill('@anna_kar')
      await poll(channels).toEqual(['x', 'email'])
      expect(await results.first().textContent()).toContain('@anna_kar')
      // While words are in the box, the results stand in for the queue.
      expect(await ben.getByTestId('queue-item').count()).toBe(0)

      // Query syntax is read as words: nothing breaks, nothing matches.
      await box.fill('"anna" NEAR(*')
      await ben.getByTestId('contact-search-empty').waitFor()

      // Diacritics and case do not matter.
      await box.fill('BJO')
      await poll(() => results.allTextContents()).toEqual([expect.stringContaining('Björn Lind')])

      await box.fill('anna karl')
      await poll(async () => (await channels()).sort()).toEqual(['email', 'x'])
      await screenshot(ben, 'contact-search')
      await ben.locator('[data-testid=contact-search-result][data-channel="x"]').click()
      await ben.getByTestId('contact-panel').waitFor()
      await poll(() => ben.getByTestId('contact-name').textContent()).toBe('Anna Karlsson')
      expect(new URL(ben.url()).pathname).toMatch(/^\/inbox\/.+/)

      // Escape clears the search and the queue comes back.
      await box.press('Escape')
      await ben.getByTestId('queue-item').first().waitFor()
      expect(await results.count()).toBe(0)
    },
    E2E_TIMEOUT,
  )
})
