import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { startReferenceCrm } from '../../examples/crm-reference/reference-crm'
import type { ReferenceCrm } from '../../examples/crm-reference/reference-crm'
import {
  E2E_TIMEOUT,
  ingest,
  openConversation,
  poll,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'
import type { DemoServer } from './harness'

const stops: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.()
})

/** The reference CRM (examples/crm-reference) in this process, with a secret Cardfile lacks. */
async function startCrm(): Promise<ReferenceCrm> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-e2e-crm-'))
  const crm = await startReferenceCrm({
    port: 0,
    dataFile: join(dir, 'crm.json'),
    secret: '00'.repeat(32),
  })
  stops.push(async () => {
    await crm.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return crm
}

async function openSettings(server: DemoServer): Promise<Page> {
  const page = await signIn(server, 'ana')
  await page.goto(`${server.url}/settings`)
  await page.getByTestId('crm-connection').waitFor()
  return page
}

const card = (page: Page) => page.getByTestId('crm-connection')

/**
 * Connects the demo workspace to the CRM from the settings page and hands the CRM the secret
 * the page shows once, as an admin copies it into the CRM.
 */
async function connectFromSettings(
  page: Page,
  crm: ReferenceCrm,
  urls: { writeBack?: boolean; notification?: boolean } = {},
): Promise<string> {
  await poll(() => card(page).getAttribute('data-state')).toBe('none')
  await card(page).getByTestId('crm-lookupUrl').fill(crm.lookupUrl)
  if (urls.writeBack === true) {
    await card(page).getByTestId('crm-writeBackUrl').fill(crm.writeBackUrl)
  }
  if (urls.notification === true) {
    await card(page).getByTestId('crm-notificationUrl').fill(crm.notificationUrl)
  }
  await card(page).getByTestId('crm-save').click()
  await poll(() => card(page).getAttribute('data-state')).toBe('on')
  const secret = (await card(page).getByTestId('crm-secret').textContent()) ?? ''
  expect(secret).toMatch(/^[0-9a-f]{64}$/)
  crm.setSecret(secret)
  await card(page).getByRole('button', { name: 'I have copied it' }).click()
  return secret
}

/** GET from the demo workspace's API as an admin, with a demo token. */
async function adminApi(server: DemoServer, path: string): Promise<unknown> {
  const tokenRes = await fetch(`${server.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspace: 'demo', role: 'admin', userId: 'ana' }),
  })
  const { token } = (await tokenRes.json()) as { token: string }
  const res = await fetch(`${server.url}/api/demo${path}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
  return res.json()
}

/** The contact id of the latest look-up the CRM received. */
const contactOf = (crm: ReferenceCrm): string => {
  const lookups = crm.received().filter((r) => r.path === '/cardfile/lookup')
  return String((lookups.at(-1)?.body as { contact?: { id?: string } }).contact?.id)
}

const testResult = (page: Page) => card(page).getByTestId('crm-test-result')

describe('the CRM connection on the settings page', () => {
  it(
    'connects the reference CRM, tests it, rotates the secret so the next lookup still verifies, and switches it off',
    async () => {
      const crm = await startCrm()
      // The reference CRM listens on this machine, which admins may not connect by default.
      const server = await startDemoServer({ allowPrivateOutboundTargets: true })
      const admin = await openSettings(server)

      const first = await connectFromSettings(admin, crm, { writeBack: true, notification: true })
      await expect(card(admin).getByTestId('crm-secret-hint').textContent()).resolves.toBe(
        `…${first.slice(-4)}`,
      )
      await card(admin).getByTestId('crm-test').click()
      await poll(() => testResult(admin).getAttribute('data-outcome')).toBe('ok')
      await expect(testResult(admin).textContent()).resolves.toMatch(
        /^Connected\. The CRM verified the signed test look-up/,
      )

      // Rotating: the page shows the new secret once; until the CRM has it, it refuses.
      await card(admin).getByTestId('crm-rotate').click()
      await card(admin).getByTestId('crm-rotate-confirm').click()
      await poll(async () => (await card(admin).getByTestId('crm-secret').count()) === 1).toBe(true)
      const rotated = (await card(admin).getByTestId('crm-secret').textContent()) ?? ''
      expect(rotated).toMatch(/^[0-9a-f]{64}$/)
      expect(rotated).not.toBe(first)
      await poll(() => card(admin).getByTestId('crm-secret-hint').textContent()).toBe(
        `…${rotated.slice(-4)}`,
      )
      await card(admin).getByTestId('crm-test').click()
      await poll(() => testResult(admin).getAttribute('data-outcome')).toBe('rejected')
      await screenshot(admin, 'settings-crm-rotated')
      await expect(testResult(admin).textContent()).resolves.toContain(
        'The CRM refused the signature (401). Give the CRM the current secret',
      )
      crm.setSecret(rotated)
      await card(admin).getByRole('button', { name: 'I have copied it' }).click()
      await card(admin).getByTestId('crm-test').click()
      await poll(() => testResult(admin).getAttribute('data-outcome')).toBe('ok')

      // The next real lookup, asked by an agent, is signed with the new secret and verified.
      const agent = await signIn(server, 'ben')
      const conversation = await ingest(server, 'email', 'rotation@example.com', 'Hello there')
      await openConversation(agent, conversation)
      await agent.getByTestId('crm-lookup').click()
      await poll(() => agent.getByTestId('crm-lookup-result').getAttribute('data-outcome')).toBe(
        'not-found',
      )
      const agentLookups = crm
        .received()
        .filter(
          (r) =>
            r.path === '/cardfile/lookup' && (r.body as { trigger?: string }).trigger === 'agent',
        )
      expect(agentLookups).toHaveLength(1)
      expect(agentLookups[0]?.signatureOk).toBe(true)

      // A secret the CRM already has can be set instead; a malformed one is refused in words.
      await card(admin).getByText('Use a secret the CRM already has').click()
      const own = card(admin).getByRole('textbox', { name: 'Secret the CRM already has' })
      await own.fill('not hex')
      await card(admin).getByRole('button', { name: 'Set', exact: true }).click()
      await poll(() => card(admin).getByTestId('crm-problem').textContent()).toBe(
        'A secret is 32 to 256 hexadecimal characters (0 to 9 and a to f).',
      )
      await own.fill('cd'.repeat(32))
      await card(admin).getByRole('button', { name: 'Set', exact: true }).click()
      await poll(() => card(admin).getByTestId('crm-secret-hint').textContent()).toBe('…cdcd')
      crm.setSecret('cd'.repeat(32))
      await card(admin).getByTestId('crm-test').click()
      await poll(() => testResult(admin).getAttribute('data-outcome')).toBe('ok')

      // Switched off: the card says so, the server holds it (URLs kept), and a reload reads it.
      await card(admin).getByRole('switch', { name: 'Use the CRM' }).click()
      await poll(() => card(admin).getAttribute('data-state')).toBe('off')
      await expect(adminApi(server, '/crm/config')).resolves.toMatchObject({
        configured: true,
        enabled: false,
        lookupUrl: crm.lookupUrl,
      })
      // What agents are told of it: the panel hides the look-up while this says off.
      const status = (await adminApi(server, `/contacts/${contactOf(crm)}/crm`)) as {
        connection: unknown
      }
      expect(status.connection).toEqual({ configured: true, enabled: false })
      await admin.reload()
      await poll(() => card(admin).getAttribute('data-state')).toBe('off')
      await expect(
        card(admin).getByRole('switch', { name: 'Use the CRM' }).getAttribute('aria-checked'),
      ).resolves.toBe('false')
    },
    E2E_TIMEOUT,
  )

  it(
    'says what is wrong with a URL that is not a web address',
    async () => {
      const server = await startDemoServer()
      const admin = await openSettings(server)
      await card(admin).getByTestId('crm-lookupUrl').fill('ftp://crm.example.com/lookup')
      await card(admin).getByTestId('crm-save').click()
      await poll(() => card(admin).getByTestId('crm-problem').textContent()).toBe(
        'The lookup URL must be a web address starting with http:// or https://.',
      )
      await expect(card(admin).getAttribute('data-state')).resolves.toBe('none')
    },
    E2E_TIMEOUT,
  )

  it(
    'lists a delivery the CRM refused, and sends it again once the CRM accepts again',
    async () => {
      const crm = await startCrm()
      // The reference CRM listens on this machine, which admins may not connect by default.
      const server = await startDemoServer({ allowPrivateOutboundTargets: true })
      const admin = await openSettings(server)
      await connectFromSettings(admin, crm, { notification: true })
      await poll(() => admin.getByTestId('no-failed-deliveries').count()).toBe(1)

      // The CRM refuses everything with a status that is not retried: dead letter at once.
      crm.setBehaviour({ failStatus: 422 })
      await ingest(server, 'sms', '15550188001', 'Is my order on its way?')
      const row = admin.getByTestId('failed-delivery')
      await poll(() => row.count(), 30_000).toBe(1)
      await expect(row.getByTestId('delivery-error').textContent()).resolves.toContain('422')
      await expect(row.textContent()).resolves.toContain('Notification')
      await screenshot(admin, 'settings-failed-delivery')
      expect(crm.notifications()).toHaveLength(0)

      crm.setBehaviour({ failStatus: null })
      const id = await row.getAttribute('data-delivery-id')
      await row.getByTestId('retry-delivery').click()
      const retry = admin.locator(`[data-testid=delivery-retry][data-delivery-id="${id}"]`)
      await poll(() => retry.getAttribute('data-state'), 30_000).toBe('delivered')
      await expect(retry.textContent()).resolves.toBe('Sent again: the CRM accepted it.')
      await poll(() => admin.getByTestId('failed-delivery').count()).toBe(0)
      expect(crm.notifications()).toHaveLength(1)
      // Sent with the same idempotency key as the refused attempt.
      const keys = crm
        .received()
        .filter((r) => r.path === '/cardfile/notification')
        .map((r) => r.key)
      expect(new Set(keys).size).toBe(1)
    },
    E2E_TIMEOUT,
  )
})
