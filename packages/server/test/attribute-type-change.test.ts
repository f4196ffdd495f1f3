import { ContactDoc, contactDocName } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import {
  WORKSPACE,
  api,
  createAttribute,
  ingest,
  setValues,
  startPrivacyServer,
  tokenFor,
  updateSchema,
} from './deletion-harness'
import type { PrivacyServer } from './deletion-harness'

async function contactWith(running: PrivacyServer, n: number): Promise<string> {
  const { contactId } = await ingest(running, {
    channel: 'sms',
    platformUserId: `+1415555010${n}`,
    metadata: {},
    message: { text: 'hi' },
  })
  return contactId
}

const valueOf = (running: PrivacyServer, contactId: string, attributeId: string) =>
  running.server.host.read(
    contactDocName(WORKSPACE, contactId),
    (doc) => new ContactDoc(doc, contactId).read().custom[attributeId] ?? null,
  )

describe('changing an attribute type', () => {
  it('reports the values that cannot convert and changes nothing while there is one', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const age = await createAttribute(running, { label: 'Age', type: 'text' })
    const [a, b, c] = [
      await contactWith(running, 1),
      await contactWith(running, 2),
      await contactWith(running, 3),
    ]
    await setValues(running, a, { [age]: ' 42 ' })
    await setValues(running, b, { [age]: 'forty' })
    await setValues(running, c, { [age]: '7.50' })
    const path = `/api/${WORKSPACE}/attributes/${age}/type`

    const dry = await api(running, 'POST', path, admin, { type: 'number' })
    expect(dry.status).toBe(200)
    expect(dry.json.report).toMatchObject({
      attributeId: age,
      from: 'text',
      to: 'number',
      converted: 2,
      applied: false,
      failures: [{ contactId: b, value: 'forty' }],
    })

    const refused = await api(running, 'POST', path, admin, { type: 'number', apply: true })
    expect(refused.status).toBe(409)
    expect(refused.json.error).toMatchObject({ code: 'not-convertible' })
    expect(await updateSchema(running, (s) => s.definition(age)!.type)).toBe('text')
    expect((await valueOf(running, a, age))?.value).toBe(' 42 ')
    expect((await valueOf(running, b, age))?.value).toBe('forty')

    // Once the one value is fixed, the change goes through and every value is converted.
    await setValues(running, b, { [age]: '40' })
    const applied = await api(running, 'POST', path, admin, { type: 'number', apply: true })
    expect(applied.status).toBe(200)
    expect(applied.json.report).toMatchObject({ converted: 3, failures: [], applied: true })
    expect(await updateSchema(running, (s) => s.definition(age)!.type)).toBe('number')
    const converted = await valueOf(running, a, age)
    expect(converted?.value).toBe('42')
    // Who set the value, and when, is kept.
    expect(converted?.by).toMatchObject({ role: 'admin', userId: 'ana' })
    expect((await valueOf(running, c, age))?.value).toBe('7.5')
  })

  it('turns a dropdown into a multi-select and back into text by labels', async () => {
    const running = await startPrivacyServer()
    const admin = await tokenFor('admin')
    const plan = await createAttribute(running, {
      label: 'Plan',
      type: 'dropdown',
      options: [{ label: 'Gold' }, { label: 'Silver' }],
    })
    const gold = await updateSchema(running, (s) => s.definition(plan)!.options[0]!.id)
    const a = await contactWith(running, 4)
    await setValues(running, a, { [plan]: gold })
    const path = `/api/${WORKSPACE}/attributes/${plan}/type`

    const multi = await api(running, 'POST', path, admin, { type: 'multiselect', apply: true })
    expect(multi.json.report).toMatchObject({ converted: 1, applied: true })
    expect((await valueOf(running, a, plan))?.value).toBe(gold)

    const text = await api(running, 'POST', path, admin, { type: 'text', apply: true })
    expect(text.json.report).toMatchObject({ converted: 1, applied: true })
    expect((await valueOf(running, a, plan))?.value).toBe('Gold')
    // The options are kept, retired: schema entries are never deleted.
    const def = await updateSchema(running, (s) => s.definition(plan)!)
    expect(def.type).toBe('text')
    expect(def.options.every((o) => o.retired)).toBe(true)
  })

  it('refuses agents, platform attributes and unknown types', async () => {
    const running = await startPrivacyServer()
    const age = await createAttribute(running, { label: 'Age', type: 'text' })
    const agent = await tokenFor('agent')
    const admin = await tokenFor('admin')
    const path = `/api/${WORKSPACE}/attributes/${age}/type`
    expect((await api(running, 'POST', path, agent, { type: 'number' })).status).toBe(403)
    expect((await api(running, 'POST', path, admin, { type: 'currency' })).status).toBe(400)
    const email = `/api/${WORKSPACE}/attributes/email/type`
    expect((await api(running, 'POST', email, admin, { type: 'email' })).status).toBe(403)
    const ghost = `/api/${WORKSPACE}/attributes/ghost/type`
    expect((await api(running, 'POST', ghost, admin, { type: 'number' })).status).toBe(404)
  })
})
