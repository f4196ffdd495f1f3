import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  E2E_TIMEOUT,
  editText,
  ingest,
  openConversation,
  poll,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

/**
 * The demo seeds an X contact and an email contact with the same customer id (C-1001), the
 * workspace's matching attribute: they are linked, so each one's panel lists both conversations.
 */
const ANNA_EMAIL = 'anna.karlsson@example.com'

/** The id of the queue's conversation on a channel (and showing a handle, when the channel has two). */
async function conversationOn(page: Page, channel: string, handle?: string): Promise<string> {
  let item = page.locator(`[data-testid=queue-item][data-channel="${channel}"]`)
  if (handle !== undefined) item = item.filter({ hasText: handle })
  await item.first().waitFor()
  return (await item.first().getAttribute('data-conversation-id')) ?? ''
}

/** Conversation ids of the panel's cross-channel history, top to bottom. */
const historyOf = (page: Page): Promise<string[]> =>
  page
    .getByTestId('history-item')
    .evaluateAll((items) => items.map((i) => i.getAttribute('data-conversation-id') ?? ''))

const historyItem = (page: Page, conversationId: string) =>
  page.locator(`[data-testid=history-item][data-conversation-id="${conversationId}"]`)

/** Channels of the panel's linked contacts, sorted. */
const linkedChannels = async (page: Page): Promise<string[]> =>
  (
    await page
      .getByTestId('linked-contact')
      .evaluateAll((items) => items.map((i) => i.getAttribute('data-channel') ?? ''))
  ).sort()

const panelContact = (page: Page) =>
  page.getByTestId('contact-panel').getAttribute('data-contact-id')

describe('cross-channel history of linked contacts', () => {
  it(
    'shows the conversations of both linked contacts newest first, and opens the linked one from the history',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const x = await conversationOn(ben, 'x')
      const email = await conversationOn(ben, 'email', ANNA_EMAIL)
      const emailItem = ben.locator(`[data-testid=queue-item][data-conversation-id="${email}"]`)
      const emailContact = await emailItem.getAttribute('data-contact-id')

      await openConversation(ben, x)
      // The email message came an hour after the X one: it is the newer conversation.
      await poll(() => historyOf(ben)).toEqual([email, x])
      await poll(() => linkedChannels(ben)).toEqual(['email'])
      expect(await ben.getByTestId('linked-contact').textContent()).toContain(ANNA_EMAIL)
      expect(await historyItem(ben, x).getAttribute('aria-current')).toBe('true')
      expect(await historyItem(ben, email).getAttribute('data-channel')).toBe('email')
      expect(await historyItem(ben, email).locator('.channel-email').count()).toBe(1)
      expect(await historyItem(ben, email).textContent()).toContain(ANNA_EMAIL)
      expect(await historyItem(ben, x).textContent()).toContain('This contact')
      // The demo plan has the CRM integration, but the demo connects no CRM: no CRM line.
      expect(await ben.getByTestId('crm-status').count()).toBe(0)
      await ben.getByTestId('history').scrollIntoViewIfNeeded()
      await screenshot(ben, 'contact-panel-linked-history')

      await historyItem(ben, email).click()
      await poll(() => new URL(ben.url()).pathname).toBe(`/inbox/${email}`)
      await poll(() => panelContact(ben)).toBe(emailContact)
      await poll(() => historyOf(ben)).toEqual([email, x])
      await poll(() => linkedChannels(ben)).toEqual(['x'])
      await poll(() => historyItem(ben, email).getAttribute('aria-current')).toBe('true')
    },
    E2E_TIMEOUT,
  )

  it(
    'lists the VIP contacts in the inbox’s VIP view and opens a VIP contact’s conversation',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const x = await conversationOn(ben, 'x')
      await ben.getByTestId('filter-vip').click()
      const vipChannels = () =>
        ben
          .getByTestId('vip-contact')
          .evaluateAll((items) => items.map((i) => i.getAttribute('data-channel') ?? '').sort())
      // The seed marks the X contact and one email contact VIP.
      await poll(vipChannels).toEqual(['email', 'x'])
      await ben.locator('[data-testid=vip-contact][data-channel=x]').click()
      await poll(() => new URL(ben.url()).pathname).toBe(`/inbox/${x}`)
      await ben.getByTestId('contact-panel').waitFor()
      await poll(() =>
        ben.locator('[data-testid=vip-contact][data-channel=x]').getAttribute('class'),
      ).toContain('selected')
      await screenshot(ben, 'inbox-vip-contacts')

      const admin = await signIn(server, 'ana')
      await admin.goto(`${server.url}/settings`)
      await admin.getByRole('switch', { name: 'VIP contacts' }).click()
      // VIP off: the view and its tab go away for the agent, and the queues come back.
      await poll(() => ben.getByTestId('filter-vip').count()).toBe(0)
      await poll(() => ben.getByTestId('queue').count()).toBeGreaterThan(0)
    },
    E2E_TIMEOUT,
  )

  it(
    'shows another agent a re-link when an agent edits the matching value, and a linked contact’s new conversation',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const cleo = await signIn(server, 'cleo')
      const x = await conversationOn(cleo, 'x')
      const email = await conversationOn(cleo, 'email', ANNA_EMAIL)
      const whatsapp = await conversationOn(ben, 'whatsapp')
      const sms = await conversationOn(ben, 'sms')
      const instagram = await conversationOn(ben, 'instagram')
      await openConversation(cleo, x)
      await poll(() => historyOf(cleo)).toEqual([email, x])

      // Ben gives the WhatsApp contact the same customer id: it joins the group on Cleo's screen.
      await openConversation(ben, whatsapp)
      await editText(ben, 'customer_id', 'C-1001')
      await poll(() => historyOf(cleo)).toEqual([email, x, whatsapp])
      await poll(() => linkedChannels(cleo)).toEqual(['email', 'whatsapp'])

      // Ben resolves the email conversation, and the contact writes again: a new conversation.
      await openConversation(ben, email)
      await ben.getByTestId('status-resolved').click()
      await poll(() => historyItem(cleo, email).getAttribute('data-status')).toBe('resolved')
      const again = await ingest(server, 'email', ANNA_EMAIL, 'Any news on the corrected invoice?')
      expect(again).not.toBe(email)
      await poll(() => historyOf(cleo)).toEqual([again, email, x, whatsapp])
      expect(await historyItem(cleo, again).getAttribute('data-status')).toBe('new')
      await cleo.getByTestId('history').scrollIntoViewIfNeeded()
      await screenshot(cleo, 'contact-panel-history-live')

      // Five conversations fill a page; a sixth from one more linked contact is behind "Show more".
      await openConversation(ben, sms)
      await editText(ben, 'customer_id', 'C-1001')
      await poll(() => historyOf(cleo)).toEqual([again, email, x, whatsapp, sms])
      expect(await cleo.getByTestId('history-more').count()).toBe(0)
      await openConversation(ben, instagram)
      await editText(ben, 'customer_id', 'C-1001')
      await poll(() => cleo.getByTestId('history-more').count()).toBe(1)
      expect(await historyOf(cleo)).toEqual([again, email, x, whatsapp, sms])
      await cleo.getByTestId('history-more').scrollIntoViewIfNeeded()
      await screenshot(cleo, 'contact-panel-history-more')
      await cleo.getByTestId('history-more').click()
      await poll(() => historyOf(cleo)).toEqual([again, email, x, whatsapp, sms, instagram])
      await poll(() => cleo.getByTestId('history-more').count()).toBe(0)
      await poll(() => linkedChannels(cleo)).toEqual(['email', 'instagram', 'sms', 'whatsapp'])

      // Ben corrects the Instagram contact's customer id: it leaves the group on Cleo's screen.
      await editText(ben, 'customer_id', 'C-4242')
      await poll(() => linkedChannels(cleo)).toEqual(['email', 'sms', 'whatsapp'])
      await poll(() => historyOf(cleo)).toEqual([again, email, x, whatsapp, sms])
    },
    E2E_TIMEOUT,
  )

  it(
    'shows another agent an unlink and a re-link made by hand in the linked contacts',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const cleo = await signIn(server, 'cleo')
      const x = await conversationOn(ben, 'x')
      const email = await conversationOn(ben, 'email', ANNA_EMAIL)
      const emailContact =
        (await ben
          .locator(`[data-testid=queue-item][data-conversation-id="${email}"]`)
          .getAttribute('data-contact-id')) ?? ''
      await openConversation(cleo, x)
      await openConversation(ben, x)
      await poll(() => linkedChannels(cleo)).toEqual(['email'])
      await poll(() => linkedChannels(ben)).toEqual(['email'])

      // Ben says the email contact is not the same person: both panels drop it and its history.
      await ben
        .locator('[data-testid=linked-contact][data-channel=email]')
        .getByTestId('unlink-contact')
        .click()
      await poll(() => linkedChannels(ben)).toEqual([])
      await poll(() => historyOf(ben)).toEqual([x])
      await poll(() => linkedChannels(cleo)).toEqual([])
      await poll(() => historyOf(cleo)).toEqual([x])
      expect(await cleo.getByTestId('linked-none').count()).toBe(1)

      // He changes his mind and links it again by pasting its id.
      await ben.getByTestId('link-contact').click()
      await ben.getByTestId('link-input').fill(emailContact)
      await ben.getByTestId('linked-contacts').scrollIntoViewIfNeeded()
      await screenshot(ben, 'contact-panel-link-by-hand')
      await ben.getByTestId('link-submit').click()
      await poll(() => linkedChannels(ben)).toEqual(['email'])
      await poll(() => ben.getByTestId('link-form').count()).toBe(0)
      await poll(() => linkedChannels(cleo)).toEqual(['email'])
      await poll(() => historyOf(cleo)).toEqual([email, x])
      expect(await historyItem(cleo, email).textContent()).toContain(ANNA_EMAIL)
      await poll(() => cleo.locator('.linked-note').textContent()).toContain('1 linked by hand')

      // A contact cannot be linked to itself: the refusal shows beside the form.
      await ben.getByTestId('link-contact').click()
      const xContact = (await panelContact(ben)) ?? ''
      await ben.getByTestId('link-input').fill(xContact)
      await ben.getByTestId('link-submit').click()
      await poll(() => ben.getByTestId('link-error').textContent()).toContain('itself')
    },
    E2E_TIMEOUT,
  )

  it(
    'shows an agent no CRM line and no look-up when the workspace has no CRM connected',
    async () => {
      const server = await startDemoServer()
      const ben = await signIn(server, 'ben')
      const x = await conversationOn(ben, 'x')
      const email = await conversationOn(ben, 'email', ANNA_EMAIL)
      const crmAnswer = ben.waitForResponse(
        (r) =>
          r.request().method() === 'GET' &&
          /\/contacts\/[^/]+\/crm$/.test(new URL(r.url()).pathname),
      )
      await openConversation(ben, x)
      // The demo plan has the CRM integration but the demo connects no CRM, and the server says
      // so to agents too.
      const answer = await crmAnswer
      expect(answer.status()).toBe(200)
      expect(await answer.json()).toMatchObject({
        connection: { configured: false, enabled: false },
      })
      // The panel goes on loading after that answer; the CRM line never shows.
      await poll(() => historyOf(ben)).toEqual([email, x])
      expect(await ben.getByTestId('crm-status').count()).toBe(0)
      expect(await ben.getByTestId('crm-lookup').count()).toBe(0)
      await screenshot(ben, 'contact-panel-no-crm')
    },
    E2E_TIMEOUT,
  )
})
