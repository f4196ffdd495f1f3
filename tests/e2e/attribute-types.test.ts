import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  E2E_TIMEOUT,
  firstGeneralConversation,
  openConversation,
  poll,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

/** A row of the contact panel by its attribute's label (new attributes get generated ids). */
const panelRow = (page: Page, label: string) =>
  page.getByTestId('attribute-row').filter({
    has: page.locator('.field-label', { hasText: new RegExp(`^${label}$`) }),
  })

/** A row of the settings page's attribute list by label. */
const adminRow = (page: Page, label: string) =>
  page.getByTestId('admin-attribute').filter({ has: page.getByText(label, { exact: true }) })

/** Types into a panel field and presses Enter. */
async function enter(page: Page, label: string, value: string): Promise<void> {
  const row = panelRow(page, label)
  if ((await row.getByTestId('field-input').count()) === 0) {
    await row.getByTestId('field-value').click()
  }
  const input = row.getByTestId('field-input')
  await input.fill(value)
  await input.press('Enter')
}

describe('typed attributes with rules, from settings to the contact panel', () => {
  it(
    'lets an admin create a number and a date attribute with rules, and an agent enter values that the rules check in words',
    async () => {
      const server = await startDemoServer()
      const ana = await signIn(server, 'ana')
      await ana.goto(`${server.url}/settings`)
      await ana.getByTestId('admin-attribute').first().waitFor()

      // A number from 0 to 500 with two decimals and help text.
      await ana.getByTestId('new-attribute-label').fill('Order total')
      await ana.getByTestId('new-attribute-type').selectOption('number')
      await ana.getByTestId('rule-min').fill('0')
      await ana.getByTestId('rule-max').fill('500')
      await ana.getByTestId('rule-decimals').fill('2')
      await ana.getByTestId('rule-help').fill('In euros, without VAT')
      await ana.getByTestId('create-attribute').click()
      await adminRow(ana, 'Order total').waitFor()

      // A required date from 2025 on.
      await ana.getByTestId('new-attribute-label').fill('Renewal date')
      await ana.getByTestId('new-attribute-type').selectOption('date')
      await ana.getByTestId('rule-min').fill('2025-01-01')
      await ana.getByTestId('rule-required').check()
      await ana.getByTestId('create-attribute').click()
      await adminRow(ana, 'Renewal date').waitFor()
      await expect(adminRow(ana, 'Order total').textContent()).resolves.toContain('Custom · number')

      // Rules that contradict themselves are refused with a sentence, and nothing changes.
      const total = adminRow(ana, 'Order total')
      await total.getByTestId('attribute-details-toggle').click()
      await total.getByTestId('rule-min').fill('900')
      await total.getByTestId('save-rules').click()
      await poll(() => total.getByTestId('rules-error').textContent()).toContain(
        'above the maximum',
      )
      await screenshot(ana, 'settings-attribute-rules')

      const ben = await signIn(server, 'ben')
      const conversation = await firstGeneralConversation(ben)
      await openConversation(ben, conversation)
      const order = panelRow(ben, 'Order total')
      await order.waitFor()
      await expect(order.getByTestId('field-help').textContent()).resolves.toBe(
        'In euros, without VAT',
      )

      await enter(ben, 'Order total', 'twelve')
      await poll(() => order.getByTestId('field-error').textContent()).toContain(
        'Order total must be a number such as 12.5',
      )
      await enter(ben, 'Order total', '1000')
      await poll(() => order.getByTestId('field-error').textContent()).toContain(
        'Order total is at most 500',
      )
      await enter(ben, 'Order total', '12.345')
      await poll(() => order.getByTestId('field-error').textContent()).toContain(
        'Order total has at most 2 decimals',
      )
      // A comma for the decimal point and a trailing zero are read as the number they mean.
      await enter(ben, 'Order total', '12,50')
      await poll(() => order.getByTestId('field-value').textContent()).toBe('12.5')
      expect(await order.getByTestId('field-error').count()).toBe(0)

      const renewal = panelRow(ben, 'Renewal date')
      await expect(renewal.textContent()).resolves.toContain('required')
      // Resolving waits for the required date.
      await ben.getByTestId('status-resolved').click()
      await poll(() => ben.locator('.notice.error[role=alert]').textContent()).toBe(
        'Fill in Renewal date before resolving the conversation.',
      )
      expect(await ben.getByTestId('status-resolved').getAttribute('aria-checked')).toBe('false')
      await enter(ben, 'Renewal date', '2024-06-30')
      await poll(() => renewal.getByTestId('field-error').textContent()).toContain(
        'Renewal date is at least 2025-01-01',
      )
      await enter(ben, 'Renewal date', '2026-03-31')
      await poll(() => renewal.getByTestId('field-value').textContent()).toBe('2026-03-31')
      await poll(() => ben.getByTestId('save-status').getAttribute('data-state')).toBe('saved')
      await screenshot(ben, 'contact-panel-typed-attributes')

      // The values are the server's: a reload reads them back.
      await ben.reload()
      await openConversation(ben, conversation)
      await poll(() => panelRow(ben, 'Order total').getByTestId('field-value').textContent()).toBe(
        '12.5',
      )
      await poll(() => panelRow(ben, 'Renewal date').getByTestId('field-value').textContent()).toBe(
        '2026-03-31',
      )

      // With the date filled in, the server lets the conversation be resolved.
      await ben.getByTestId('status-resolved').click()
      await poll(() => ben.getByTestId('status-resolved').getAttribute('aria-checked')).toBe('true')
      await poll(() => ben.getByTestId('save-status').getAttribute('data-state')).toBe('saved')
      // Saved means the server's verdict is in: a refusal would have put the status back.
      expect(await ben.getByTestId('status-resolved').getAttribute('aria-checked')).toBe('true')

      // The admin turns the number into text: checked first, then every value converted.
      const change = total.getByTestId('type-change')
      await change.getByRole('combobox').selectOption('text')
      await change.getByRole('button', { name: 'Check' }).click()
      await poll(() => change.getByTestId('type-change-report').textContent()).toBe(
        '1 value(s) would convert; 0 would not.',
      )
      await change.getByRole('button', { name: 'Change type' }).click()
      await poll(() => adminRow(ana, 'Order total').textContent()).toContain('Custom · text')
      await poll(() => panelRow(ben, 'Order total').getByTestId('field-value').textContent()).toBe(
        '12.5',
      )
    },
    E2E_TIMEOUT,
  )
})
