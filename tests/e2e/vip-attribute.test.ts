import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  firstGeneralConversation,
  openConversation,
  panelOrder,
  poll,
  row,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

describe('VIP as an attribute in the panel', () => {
  it(
    "shows VIP among the attributes in the admin's place, marks the contact from there, and hides it when the admin switches it off",
    async () => {
      const server = await startDemoServer()
      const agent = await signIn(server, 'ben')
      await openConversation(agent, await firstGeneralConversation(agent))
      await poll(() => panelOrder(agent)).toContain('vip')
      const field = row(agent, 'vip').getByTestId('vip-field')
      const header = agent.getByTestId('vip-toggle')
      const pressed = await header.getAttribute('aria-pressed')
      expect(await field.getAttribute('aria-checked')).toBe(pressed)

      // Marked from the attribute list: the header star says the same.
      await field.click()
      const now = pressed === 'true' ? 'false' : 'true'
      await poll(() => field.getAttribute('aria-checked')).toBe(now)
      await poll(() => header.getAttribute('aria-pressed')).toBe(now)
      await screenshot(agent, 'panel-vip-attribute')

      // The admin's switch for VIP in the attribute list hides the row, not VIP itself.
      const admin = await signIn(server, 'ana')
      await admin.goto(`${server.url}/settings`)
      const show = admin.getByRole('switch', { name: 'Show VIP' })
      await show.click()
      await poll(() => show.getAttribute('aria-checked')).toBe('false')
      await poll(() => panelOrder(agent)).not.toContain('vip')
      expect(await header.count()).toBe(1)
      await show.click()
      await poll(() => panelOrder(agent)).toContain('vip')

      // VIP switched off for the workspace: the row and the star go.
      await admin.getByRole('switch', { name: 'VIP contacts' }).click()
      await poll(() => panelOrder(agent)).not.toContain('vip')
      await poll(() => header.count()).toBe(0)
      await admin.getByRole('switch', { name: 'VIP contacts' }).click()
      await poll(() => panelOrder(agent)).toContain('vip')
      await poll(() =>
        row(agent, 'vip').getByTestId('vip-field').getAttribute('aria-checked'),
      ).toBe(now)
    },
    E2E_TIMEOUT,
  )
})
