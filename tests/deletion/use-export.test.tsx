// @vitest-environment jsdom
import { act, renderHook, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { useExport } from '@cardfile/react'
import { apiClient, editSchema, ingestFromX, startApiServer } from './harness'
import { wrapper } from './hook-wrapper'

describe('useExport', () => {
  it('starts an export, follows its progress to done, and downloads the CSV', async () => {
    const running = await startApiServer()
    for (const handle of ['anna', 'bruno', 'carla']) {
      await ingestFromX(running, `${handle}-id`, handle)
    }
    const admin = await apiClient(running, 'ana', 'admin')
    const { result } = renderHook(() => useExport({ pollMs: 20 }), { wrapper: wrapper(admin) })
    await waitFor(() => expect(result.current.canExport).toBe(true))
    await act(async () => {
      await result.current.start({ from: new Date(Date.now() - 60_000) })
    })
    await waitFor(() => expect(result.current.job?.status).toBe('done'))
    expect(result.current.job).toMatchObject({ rows: 3, total: 3, progress: 1 })
    expect(result.current.running).toBe(false)
    const csv = await (await result.current.download()).text()
    const lines = csv.trim().split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toContain('id,channel,hint,VIP,created,updated')
  })

  it('reports plan-lacks-feature on a plan without exports, and hides it from agents', async () => {
    const running = await startApiServer()
    // The plan is a server-side property: set it as the server, not through an admin's edit.
    await editSchema(running, (s) => s.updateSettings({ plan: 'standard' }), {
      userId: 'billing',
      role: 'system',
    })
    const admin = await apiClient(running, 'ana', 'admin')
    const { result } = renderHook(() => useExport(), { wrapper: wrapper(admin) })
    await waitFor(() => expect(result.current.canExport).toBe(false))
    await act(async () => {
      await expect(result.current.start()).rejects.toMatchObject({ code: 'plan-lacks-feature' })
    })
    expect(result.current.error?.code).toBe('plan-lacks-feature')

    const agent = await apiClient(running, 'bo', 'agent')
    const agentView = renderHook(() => useExport(), { wrapper: wrapper(agent) })
    await act(async () => {
      await expect(agentView.result.current.start()).rejects.toMatchObject({ code: 'forbidden' })
    })
    expect(agentView.result.current.canExport).toBe(false)
  })
})
