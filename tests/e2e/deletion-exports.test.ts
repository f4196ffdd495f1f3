import { readFileSync } from 'node:fs'
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
import type { Page } from 'playwright-core'

const adminLabels = (page: Page): Promise<string[]> =>
  page
    .getByTestId('admin-attribute')
    .evaluateAll((rows) => rows.map((r) => r.querySelector('strong')?.textContent ?? ''))

describe('deleting contacts and exporting them', () => {
  it(
    'removes a contact the admin deletes from the agent’s screen, and records it',
    async () => {
      const server = await startDemoServer()
      const agent = await signIn(server, 'ben')
      const admin = await signIn(server, 'ana')
      const conversation = await firstGeneralConversation(agent)
      await openConversation(agent, conversation)
      await openConversation(admin, conversation)

      await admin.getByTestId('delete-contact').click()
      await screenshot(admin, 'contact-panel-delete-confirm')
      await admin.getByTestId('confirm-delete').click()

      const item = (page: Page) =>
        page.locator(`[data-testid=queue-item][data-conversation-id="${conversation}"]`)
      await poll(() => item(agent).count()).toBe(0)
      await poll(() => agent.getByTestId('contact-panel').count()).toBe(0)
      await poll(() => item(admin).count()).toBe(0)

      await admin.getByRole('link', { name: 'Deleted contacts' }).click()
      await poll(() => admin.getByTestId('deleted-contact').count()).toBe(1)
      expect(await admin.getByTestId('deleted-contact').textContent()).toContain('Ana')
      await screenshot(admin, 'deleted-contacts')
    },
    E2E_TIMEOUT,
  )

  it(
    'downloads a CSV whose attribute columns follow the admin’s order',
    async () => {
      const server = await startDemoServer()
      const admin = await signIn(server, 'ana')
      await admin.getByRole('link', { name: 'Contact attributes' }).click()
      await admin.getByTestId('admin-attribute').first().waitFor()

      // Move Notes up two places with the keyboard, above Plan, unlike its creation order.
      const labels = await adminLabels(admin)
      const from = labels.indexOf('Notes')
      expect(labels.indexOf('Plan')).toBeLessThan(from)
      const handle = admin.locator(
        '[data-testid=admin-attribute][data-attribute-id="notes"] [data-testid=drag-handle]',
      )
      await handle.focus()
      await admin.keyboard.press('Space')
      await poll(() => admin.locator('[data-attribute-id="notes"].dragging').count()).toBe(1)
      const announced = admin.locator('[role=status][aria-live]')
      for (const i of [from - 1, from - 2]) {
        await admin.keyboard.press('ArrowUp')
        await poll(() => announced.textContent()).toContain(`Notes is over ${labels[i]}`)
      }
      await admin.keyboard.press('Space')
      await poll(async () => (await adminLabels(admin)).indexOf('Notes')).toBe(from - 2)
      const order = await adminLabels(admin)

      await admin.getByRole('link', { name: 'Exports' }).click()
      await admin.getByTestId('start-export').click()
      await admin.getByTestId('download-export').waitFor({ timeout: 30_000 })
      await screenshot(admin, 'exports')
      const [download] = await Promise.all([
        admin.waitForEvent('download'),
        admin.getByTestId('download-export').click(),
      ])
      const path = await download.path()
      const header = (readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '')
        .replace(/^\uFEFF/, '')
        .split(',')
        .map((cell) => cell.replace(/^"|"$/g, ''))
      // VIP keeps its fixed column beside id, channel and hint, wherever the admin placed it.
      const attributeColumns = header.filter((cell) => cell !== 'VIP' && order.includes(cell))
      expect(attributeColumns.length).toBeGreaterThan(3)
      expect(attributeColumns).toEqual(order.filter((label) => attributeColumns.includes(label)))
      expect(attributeColumns.indexOf('Notes')).toBeLessThan(attributeColumns.indexOf('Plan'))
      expect(header.indexOf('Notes')).toBeGreaterThan(header.indexOf('id'))
    },
    E2E_TIMEOUT,
  )
})
