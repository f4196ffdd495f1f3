// @vitest-environment jsdom
import { expect, it } from 'vitest'
import { connectClient, startServer } from './harness'

/** Dispatches what a browser sends before closing a tab; true when the client asked to stay. */
const closeTab = (): boolean => {
  const event = new Event('beforeunload', { cancelable: true })
  window.dispatchEvent(event)
  return event.defaultPrevented
}

it('asks before a tab with unsaved changes closes, and only then', async () => {
  const { url } = await startServer()
  const client = await connectClient(url, 'ana', 'admin', { onBeforeUnload: true })
  const schema = client.schema()
  await schema.whenSynced()
  expect(closeTab()).toBe(false)
  client.disconnect()
  schema.schema.createAttribute({ label: 'Plan', type: 'text' })
  expect(client.status().saved).toBe(false)
  expect(closeTab()).toBe(true)
  client.connect()
  await expect.poll(() => client.status().saved).toBe(true)
  expect(closeTab()).toBe(false)
})
