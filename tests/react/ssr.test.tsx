import { renderToString } from 'react-dom/server'
import { expect, it } from 'vitest'
import { CardfileProvider, useAttributes, useContact, useSyncStatus, useVip } from '@cardfile/react'
import { connectClient, openSockets, startServer } from '../client/harness'

function Panel() {
  const { data, found, source } = useContact('c1')
  const [, , { enabled }] = useVip('c1')
  const { attributes } = useAttributes()
  const status = useSyncStatus('c1')
  return (
    <p>{`${source}/${String(found)}/${data.fields.length}/${enabled}/${attributes.length}/${status.status}`}</p>
  )
}

it('imports without a window and renders on a server without opening anything', async () => {
  expect(typeof window).toBe('undefined')
  const { url } = await startServer()
  const client = await connectClient(url, 'bo', 'agent')
  const html = renderToString(
    <CardfileProvider client={client}>
      <Panel />
    </CardfileProvider>,
  )
  // an honest placeholder: nothing loaded, existence unknown (not a false "not found")
  expect(html).toContain('none/null/0/false/0/')
  expect(client.openDocuments()).toEqual([])
  expect(openSockets()).toBe(0)
})
