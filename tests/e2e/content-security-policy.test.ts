import { describe, expect, it } from 'vitest'
import {
  E2E_TIMEOUT,
  cspViolations,
  editText,
  firstGeneralConversation,
  openConversation,
  poll,
  row,
  signIn,
  startDemoServer,
} from './harness'

describe('the agent workspace under its Content-Security-Policy', () => {
  it(
    'loads, syncs over the same-origin websocket and saves an edit with nothing blocked',
    async () => {
      const server = await startDemoServer()
      const page = await signIn(server, 'ben')
      const conversation = await firstGeneralConversation(page)
      await openConversation(page, conversation)
      await editText(page, 'notes', 'Checked under the policy')
      await poll(() => row(page, 'notes').getByTestId('field-value').textContent()).toBe(
        'Checked under the policy',
      )
      const response = await page.request.get(server.url)
      expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
      expect(await cspViolations(page)).toEqual([])
    },
    E2E_TIMEOUT,
  )
})
