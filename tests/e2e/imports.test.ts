import { describe, expect, it } from 'vitest'
import { E2E_TIMEOUT, poll, screenshot, signIn, startDemoServer } from './harness'

describe('importing contacts', () => {
  it(
    'uploads a CSV on the Import page and shows its progress, counts and refused rows',
    async () => {
      const server = await startDemoServer()
      const admin = await signIn(server, 'ana')
      await admin.getByRole('link', { name: 'Import' }).click()
      const csv = [
        'channel,platformUserId,plan,notes',
        'x,import-1,Pro,first import',
        'sms,+15550100,Gold,',
        'email,import-3@example.com,enterprise,',
      ].join('\n')
      await admin.getByTestId('import-file').setInputFiles({
        name: 'contacts.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(csv),
      })
      await admin.getByTestId('start-import').click()
      await poll(() => admin.getByTestId('import-job').getAttribute('data-state')).toBe('done')
      const counts = await admin.getByTestId('import-counts').textContent()
      expect(counts).toContain('3 of 3 rows')
      expect(counts).toContain('2 created')
      expect(counts).toContain('1 refused')
      const refusals = admin.getByTestId('import-refusals')
      expect(await refusals.textContent()).toContain('3')
      expect(await refusals.textContent()).toContain('plan')
      await screenshot(admin, 'imports')

      // A header with a column the workspace does not have imports nothing, and says why.
      await admin.getByTestId('import-file').setInputFiles({
        name: 'bad.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('channel,platformUserId,shoe_size\nx,import-9,44\n'),
      })
      await admin.getByTestId('start-import').click()
      await poll(() => admin.getByTestId('import-job').getAttribute('data-state')).toBe('failed')
      expect(await admin.getByTestId('import-error').textContent()).toContain('shoe_size')
    },
    E2E_TIMEOUT,
  )
})
