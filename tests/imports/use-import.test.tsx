// @vitest-environment jsdom
import type { ReactNode } from 'react'
import { act, cleanup, renderHook, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { SchemaDoc, schemaDocName } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider, useImport } from '@cardfile/react'
import { WORKSPACE, apiClient, ingest, startApiServer } from '../deletion/harness'

afterEach(() => cleanup())

/** Lists are polled only this often while push is unavailable: every change here is pushed. */
const MINUTES = 5 * 60_000

const wrapper =
  (client: CardfileClient) =>
  ({ children }: { children: ReactNode }) => (
    <CardfileProvider client={client}>{children}</CardfileProvider>
  )

async function workspaceWithTier() {
  const running = await startApiServer()
  // Seeds the workspace (channels, settings) the way production does.
  await ingest(running, {
    channel: 'x',
    platformUserId: 'seed',
    metadata: { x_handle: '@seed' },
    message: { text: 'hi' },
  })
  await running.server.host.transact(
    schemaDocName(WORKSPACE),
    { userId: 'setup', role: 'system' },
    (doc) => {
      const schema = new SchemaDoc(doc)
      try {
        schema.createAttribute({ id: 'tier', label: 'Tier', type: 'text', maxLength: 5 })
      } finally {
        schema.destroy()
      }
    },
  )
  return running
}

describe('useImport', () => {
  it('uploads a CSV, follows the import to done, and shows the refused rows', async () => {
    const running = await workspaceWithTier()
    const admin = await apiClient(running, 'ana', 'admin', { listPollMs: MINUTES })
    const { result } = renderHook(() => useImport(), { wrapper: wrapper(admin) })
    await waitFor(() => expect(result.current.canImport).toBe(true))
    const csv = 'channel,platformUserId,tier\nx,u1,gold\nx,u2,platinum\nsms,+1555,\n'
    await act(async () => {
      await result.current.start(csv)
    })
    await waitFor(() => expect(result.current.job?.state).toBe('done'))
    expect(result.current.job).toMatchObject({ total: 3, rows: 3, created: 2, refused: 1 })
    expect(result.current.job?.refusals).toEqual([
      { row: 3, errors: [expect.objectContaining({ column: 'tier', code: 'too-long' })] },
    ])
    expect(result.current.progress).toBe(1)
    expect(result.current.running).toBe(false)
  })

  it('reports an import that imported nothing, and is not offered to agents', async () => {
    const running = await workspaceWithTier()
    const admin = await apiClient(running, 'ana', 'admin', { listPollMs: MINUTES })
    const { result } = renderHook(() => useImport(), { wrapper: wrapper(admin) })
    await act(async () => {
      await result.current.start('channel,platformUserId,shoe\nx,u1,44\n')
    })
    await waitFor(() => expect(result.current.job?.state).toBe('failed'))
    expect(result.current.job?.error).toContain('"shoe" is not an attribute alias')

    const agent = await apiClient(running, 'bo', 'agent')
    const asAgent = renderHook(() => useImport(), { wrapper: wrapper(agent) })
    await waitFor(() => expect(asAgent.result.current.canImport).toBe(false))
    await act(async () => {
      await expect(asAgent.result.current.start('channel,platformUserId\n')).rejects.toMatchObject({
        code: 'forbidden',
      })
    })
    expect(asAgent.result.current.error?.code).toBe('forbidden')
  })
})
