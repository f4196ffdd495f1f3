import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { E2E_TIMEOUT, poll, screenshot, signIn, startDemoServer } from './harness'
import type { DemoServer } from './harness'

/** A row of the settings page's attribute list. */
const adminRow = (page: Page, attributeId: string) =>
  page.locator(`[data-testid=admin-attribute][data-attribute-id="${attributeId}"]`)

/** Opens the settings page as Ana (the demo's admin) in a browser profile of its own. */
async function openSettings(server: DemoServer): Promise<Page> {
  const page = await signIn(server, 'ana')
  await page.goto(`${server.url}/settings`)
  await page.getByTestId('admin-attribute').first().waitFor()
  return page
}

/** Opens an attribute's details (alias, CRM flags, options). */
async function openDetails(page: Page, attributeId: string) {
  const row = adminRow(page, attributeId)
  await row.getByTestId('attribute-details-toggle').click()
  await row.getByTestId('attribute-details').waitFor()
  return row
}

const optionLabels = (page: Page, attributeId: string) =>
  adminRow(page, attributeId)
    .getByTestId('option-row')
    .evaluateAll((rows) => rows.map((r) => r.querySelector('.option-label')?.textContent ?? ''))

const chips = (page: Page, attributeId: string) =>
  adminRow(page, attributeId).getByTestId('option-chip').allTextContents()

describe('the settings page edits what the SDK supports per attribute', () => {
  it(
    'keeps the CRM flags and the alias an admin sets, and shows them live on another admin’s page',
    async () => {
      const server = await startDemoServer()
      const admin = await openSettings(server)
      // Ana again, on another device: a second admin session with its own replica.
      const other = await openSettings(server)
      await expect(adminRow(other, 'notes').getByTestId('crm-managed-tag').count()).resolves.toBe(0)

      const row = await openDetails(admin, 'notes')
      await row.getByRole('switch', { name: 'Managed by the CRM' }).click()
      await row.getByRole('switch', { name: 'Look contacts up by it' }).click()
      await row.getByTestId('alias-input').fill('internal_notes')
      await row.getByTestId('save-alias').click()

      const otherRow = adminRow(other, 'notes')
      await poll(() => otherRow.getByTestId('crm-managed-tag').count()).toBe(1)
      await poll(() => otherRow.getByTestId('lookup-tag').count()).toBe(1)
      await poll(() => otherRow.getByTestId('alias').textContent()).toBe('internal_notes')

      // A reload reads them back from the server, not from the page's memory.
      await other.reload()
      await poll(() => adminRow(other, 'notes').getByTestId('alias').textContent()).toBe(
        'internal_notes',
      )
      const details = await openDetails(other, 'notes')
      await expect(
        details.getByRole('switch', { name: 'Managed by the CRM' }).getAttribute('aria-checked'),
      ).resolves.toBe('true')
      await expect(
        details
          .getByRole('switch', { name: 'Look contacts up by it' })
          .getAttribute('aria-checked'),
      ).resolves.toBe('true')

      // A channel attribute can be a lookup, but the CRM never manages it.
      const email = await openDetails(admin, 'email')
      await expect(email.getByRole('switch', { name: 'Managed by the CRM' }).count()).resolves.toBe(
        0,
      )

      // An alias another attribute has is refused with what to do about it.
      await row.getByTestId('alias-input').fill('customer_id')
      await row.getByTestId('save-alias').click()
      await poll(() => admin.getByRole('alert').first().textContent()).toContain(
        'Another attribute already uses the alias "customer_id". Choose another',
      )
      await expect(adminRow(admin, 'notes').getByTestId('alias').textContent()).resolves.toBe(
        'internal_notes',
      )
    },
    E2E_TIMEOUT,
  )

  it(
    'renames, reorders, retires and restores the options of a dropdown, and restores a retired attribute',
    async () => {
      const server = await startDemoServer()
      const admin = await openSettings(server)
      const row = await openDetails(admin, 'plan')
      expect(await optionLabels(admin, 'plan')).toEqual(['Free', 'Pro', 'Enterprise'])

      await row.getByRole('button', { name: 'Rename option Pro of Plan' }).click()
      await row
        .getByRole('textbox', { name: 'New label for option Pro of Plan' })
        .fill('Professional')
      await row.getByRole('button', { name: 'Save', exact: true }).click()
      await poll(() => optionLabels(admin, 'plan')).toEqual(['Free', 'Professional', 'Enterprise'])

      await row.getByRole('button', { name: 'Move option Enterprise of Plan up' }).click()
      await poll(() => optionLabels(admin, 'plan')).toEqual(['Free', 'Enterprise', 'Professional'])
      await poll(() => chips(admin, 'plan')).toEqual(['Free', 'Enterprise', 'Professional'])

      await row.getByRole('button', { name: 'Retire option Free of Plan' }).click()
      await poll(() => optionLabels(admin, 'plan')).toEqual(['Enterprise', 'Professional'])
      await screenshot(admin, 'settings-options')
      await poll(() =>
        row.locator('[data-testid=retired-option] .option-chip').allTextContents(),
      ).toEqual(['Free'])
      // A dropdown keeps two options: the refusal says so, and nothing changes.
      await row.getByRole('button', { name: 'Retire option Enterprise of Plan' }).click()
      await poll(() => admin.getByRole('alert').first().textContent()).toBe(
        'A dropdown needs at least two options. Add another option before retiring this one.',
      )
      expect(await optionLabels(admin, 'plan')).toEqual(['Enterprise', 'Professional'])

      await row.getByRole('button', { name: 'Restore option Free of Plan' }).click()
      // It comes back in the place it had.
      await poll(() => optionLabels(admin, 'plan')).toEqual(['Free', 'Enterprise', 'Professional'])
      await poll(() => row.getByTestId('retired-option').count()).toBe(0)

      // The whole attribute: retired, it leaves the list; restored, it comes back.
      await adminRow(admin, 'language')
        .getByRole('button', { name: 'Retire Preferred language' })
        .click()
      await poll(() => adminRow(admin, 'language').count()).toBe(0)
      await admin.getByText('Retired attributes (1)').click()
      await admin.getByRole('button', { name: 'Restore Preferred language' }).click()
      await poll(() => adminRow(admin, 'language').count()).toBe(1)
      await poll(() => admin.getByTestId('retired-attribute').count()).toBe(0)

      // Everything above was stored: a fresh page reads the same.
      await admin.reload()
      await adminRow(admin, 'plan').waitFor()
      await poll(() => chips(admin, 'plan')).toEqual(['Free', 'Enterprise', 'Professional'])
    },
    E2E_TIMEOUT,
  )

  it(
    'shows the progress of the re-link a matching-attribute change starts, and of one started by hand, until done',
    async () => {
      const server = await startDemoServer()
      const admin = await openSettings(server)
      const relink = admin.getByTestId('relink')
      await relink.waitFor()

      await admin.getByTestId('matching-attribute').selectOption('notes')
      await poll(() => relink.getAttribute('data-state')).toBe('done')
      await poll(() => relink.getByTestId('relink-outcome').textContent()).toMatch(
        /^Re-linked by Notes .*: \d+ contacts, \d+ changed\.$/,
      )
      const processed = Number(
        /: (\d+) contacts/.exec(
          (await relink.getByTestId('relink-outcome').textContent()) ?? '',
        )?.[1],
      )
      expect(processed).toBeGreaterThan(0)

      await admin.getByTestId('matching-attribute').selectOption('customer_id')
      await poll(() => relink.getByTestId('relink-outcome').textContent()).toMatch(
        /^Re-linked by Customer ID .*: \d+ contacts, [1-9]\d* changed\.$/,
      )

      await relink.getByTestId('relink-now').click()
      await poll(() => relink.getByTestId('relink-outcome').textContent()).toMatch(
        /^Re-linked by Customer ID .*: \d+ contacts, 0 changed\.$/,
      )
      await poll(() => relink.getAttribute('data-state')).toBe('done')
    },
    E2E_TIMEOUT,
  )
})
