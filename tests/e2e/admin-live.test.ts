import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  poll,
  ingest,
  firstGeneralConversation,
  openConversation,
  panelOrder,
  queueOrder,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'
import type { Page } from 'playwright-core'

const adminOrder = async (page: Page): Promise<string[]> =>
  page
    .getByTestId('admin-attribute')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-attribute-id') ?? ''))

describe('an admin changes attributes while an agent works', () => {
  it(
    'shows the admin’s drag-and-drop order in the agent’s panel without a reload',
    async () => {
      const server = await startDemoServer()
      const agent = await signIn(server, 'ben')
      const conversation = await firstGeneralConversation(agent)
      await openConversation(agent, conversation)
      await poll(() => panelOrder(agent)).toContain('notes')
      await screenshot(agent, 'inbox-agent')

      const admin = await signIn(server, 'ana')
      await admin.getByRole('link', { name: 'Contact attributes' }).click()
      await admin.getByTestId('admin-attribute').first().waitFor()
      await screenshot(admin, 'settings-admin')
      const before = await adminOrder(admin)
      const labels = await admin
        .getByTestId('admin-attribute')
        .evaluateAll((rows) => rows.map((r) => r.querySelector('strong')?.textContent ?? ''))
      const from = before.indexOf('notes')
      expect(from).toBeGreaterThan(1)

      // Keyboard drag with dnd-kit: lift, move up twice, drop.
      const handle = admin.locator(
        '[data-testid=admin-attribute][data-attribute-id="notes"] [data-testid=drag-handle]',
      )
      // Each step waits for dnd-kit's screen-reader announcement, as a keyboard user hears it.
      const announced = admin.locator('[role=status][aria-live]')
      await handle.focus()
      await admin.keyboard.press('Space')
      await poll(() => admin.locator('[data-attribute-id="notes"].dragging').count()).toBe(1)
      await admin.keyboard.press('ArrowUp')
      await poll(() => announced.textContent()).toContain(`Notes is over ${labels[from - 1]}`)
      await admin.keyboard.press('ArrowUp')
      await poll(() => announced.textContent()).toContain(`Notes is over ${labels[from - 2]}`)
      await admin.keyboard.press('Space')

      const expected = [...before]
      expected.splice(from, 1)
      expected.splice(from - 2, 0, 'notes')
      await poll(() => adminOrder(admin)).toEqual(expected)

      // The agent's panel follows: its rows keep the admin's relative order.
      await poll(async () => {
        const shown = await panelOrder(agent)
        return (
          shown.length > 0 && shown.join() === expected.filter((id) => shown.includes(id)).join()
        )
      }).toBe(true)
      const shown = await panelOrder(agent)
      const previous = before.filter((id) => shown.includes(id))
      expect(shown).not.toEqual(previous)
      await screenshot(agent, 'inbox-agent-after-reorder')
    },
    E2E_TIMEOUT,
  )

  it(
    'hides an attribute from the agent when the admin switches it off',
    async () => {
      const server = await startDemoServer()
      const agent = await signIn(server, 'cleo')
      await openConversation(agent, await firstGeneralConversation(agent))
      await poll(() => panelOrder(agent)).toContain('language')

      const admin = await signIn(server, 'ana')
      await admin.goto(`${server.url}/settings`)
      await admin.getByRole('switch', { name: 'Show Preferred language' }).click()
      await expect(
        admin.getByRole('switch', { name: 'Show Preferred language' }).getAttribute('aria-checked'),
      ).resolves.toBe('false')

      await poll(() => panelOrder(agent)).not.toContain('language')
      expect(await panelOrder(agent)).toContain('notes')
    },
    E2E_TIMEOUT,
  )

  it(
    'raises a conversation in the queue when an agent marks its contact VIP, and hides the button when the admin switches VIP off',
    async () => {
      const server = await startDemoServer()
      const agent = await signIn(server, 'ben')
      // Two new conversations arrive a moment apart: equal scores, so the older one comes first.
      const first = await ingest(server, 'sms', '15550199001', 'Where is my parcel?')
      const second = await ingest(server, 'sms', '15550199002', 'Can I change my order?')
      await poll(async () => {
        const order = await queueOrder(agent)
        return order.includes(first) && order.indexOf(first) < order.indexOf(second)
      }).toBe(true)
      const conversation = second
      const before = (await queueOrder(agent)).indexOf(conversation)
      await openConversation(agent, conversation)

      await agent.getByTestId('vip-toggle').click()
      await poll(() => agent.getByTestId('vip-toggle').getAttribute('aria-pressed')).toBe('true')
      const item = agent.locator(`[data-testid=queue-item][data-conversation-id="${conversation}"]`)
      await poll(() => item.getByTestId('vip-marker').count()).toBe(1)
      await poll(async () => (await queueOrder(agent)).indexOf(conversation)).toBeLessThan(before)
      const order = await queueOrder(agent)
      expect(order.indexOf(conversation)).toBeLessThan(order.indexOf(first))
      await screenshot(agent, 'inbox-vip')

      const admin = await signIn(server, 'ana')
      await admin.goto(`${server.url}/settings`)
      await admin.getByRole('switch', { name: 'VIP contacts' }).click()
      await poll(() => agent.getByTestId('vip-toggle').count()).toBe(0)
    },
    E2E_TIMEOUT,
  )
})
