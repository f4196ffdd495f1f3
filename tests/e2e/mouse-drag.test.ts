import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  firstGeneralConversation,
  openConversation,
  panelOrder,
  poll,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'
import type { Locator, Page } from 'playwright-core'

const adminOrder = async (page: Page): Promise<string[]> =>
  page
    .getByTestId('admin-attribute')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-attribute-id') ?? ''))

const adminRow = (page: Page, attributeId: string): Locator =>
  page.locator(`[data-testid=admin-attribute][data-attribute-id="${attributeId}"]`)

/** The centre of an element in viewport coordinates, where `page.mouse` points. */
async function centreOf(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox()
  if (box === null) throw new Error('The element is not visible')
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 }
}

describe('an admin reorders attributes with the mouse', () => {
  it(
    'moves an attribute by dragging its handle, and the agent’s open panel follows without a reload',
    async () => {
      const server = await startDemoServer()
      const agent = await signIn(server, 'ben')
      await openConversation(agent, await firstGeneralConversation(agent))
      // Custom attributes are visible on every channel, so both are in this panel.
      await poll(async () => {
        const shown = await panelOrder(agent)
        return shown.includes('plan') && shown.includes('notes')
      }).toBe(true)
      const agentBefore = await panelOrder(agent)
      expect(agentBefore.indexOf('notes')).toBeGreaterThan(agentBefore.indexOf('plan'))

      const admin = await signIn(server, 'ana')
      await admin.getByRole('link', { name: 'Contact attributes' }).click()
      await adminRow(admin, 'notes').waitFor()
      const before = await adminOrder(admin)
      const from = before.indexOf('notes')
      const to = before.indexOf('plan')
      expect(to).toBeGreaterThanOrEqual(0)
      expect(from).toBeGreaterThan(to + 1)

      const handle = adminRow(admin, 'notes').getByTestId('drag-handle')
      // Both rows well inside the viewport: near its edges dnd-kit scrolls the page while
      // dragging, which would move the target away from the coordinates measured here.
      await adminRow(admin, 'plan').evaluate((el) => el.scrollIntoView({ block: 'center' }))
      const start = await centreOf(handle)
      const target = await centreOf(adminRow(admin, 'plan'))
      const rowCentre = await centreOf(adminRow(admin, 'notes'))
      // The handle sits at the row's left; the row's centre is what dnd-kit compares with the
      // other rows' centres, so aim the handle where the row's centre lands on the target's.
      const end = { x: start.x, y: start.y + (target.y - rowCentre.y) }
      const announced = admin.locator('[role=status][aria-live]')

      await admin.mouse.move(start.x, start.y)
      await admin.mouse.down()
      // Past the pointer sensor's activation distance, so the press becomes a drag.
      await admin.mouse.move(start.x, start.y - 12, { steps: 4 })
      await poll(() => admin.locator('[data-attribute-id="notes"].dragging').count()).toBe(1)
      // Small steps, as a hand moves: dnd-kit re-measures on each pointer move.
      await admin.mouse.move(end.x, end.y, { steps: 20 })
      await poll(() => announced.textContent()).toContain('Notes is over Plan')
      await admin.mouse.up()

      const expected = [...before]
      expected.splice(from, 1)
      expected.splice(to, 0, 'notes')
      await poll(() => adminOrder(admin)).toEqual(expected)
      await poll(() => admin.locator('.dragging').count()).toBe(0)
      await screenshot(admin, 'settings-admin-after-mouse-drag')

      // The agent's panel follows: its rows keep the admin's new relative order.
      await poll(async () => {
        const shown = await panelOrder(agent)
        return shown.join() === expected.filter((id) => shown.includes(id)).join()
      }).toBe(true)
      const shown = await panelOrder(agent)
      expect(shown.indexOf('notes')).toBeLessThan(shown.indexOf('plan'))
      expect(shown).not.toEqual(agentBefore)
      await screenshot(agent, 'inbox-agent-after-mouse-drag')
    },
    E2E_TIMEOUT,
  )
})
