import { DEFAULT_RULES } from '@cardfile/core'
import type { AttributeDefinition, AttributeType } from '@cardfile/core'
import { describe, expect, it } from 'vitest'
import { fromCrmValue, toCrmValue } from '../src/crm/crm-values'

const def = (type: AttributeType): AttributeDefinition => ({
  id: 'a',
  label: 'A',
  kind: 'custom',
  type,
  alias: 'a',
  channels: [],
  visible: true,
  channelVisibility: {},
  crmManaged: true,
  lookup: false,
  retired: false,
  maxLength: 100,
  order: 'a0',
  options: [
    { id: 'red', label: 'Red', order: 'a0', retired: false },
    { id: 'blue', label: 'Blue', order: 'a1', retired: false },
  ],
  rules: DEFAULT_RULES,
})

describe('values exchanged with the CRM', () => {
  it('sends option labels and typed values in their stored form', () => {
    expect(toCrmValue(def('dropdown'), 'red')).toBe('Red')
    expect(toCrmValue(def('multiselect'), 'blue,red')).toBe('Blue, Red')
    expect(toCrmValue(def('number'), '12.5')).toBe('12.5')
    expect(toCrmValue(def('checkbox'), 'true')).toBe('true')
  })

  it('reads what the CRM sends as the attribute type, passing on what it cannot read', () => {
    expect(fromCrmValue(def('dropdown'), 'blue')).toBe('blue')
    expect(fromCrmValue(def('multiselect'), 'Blue, red')).toBe('blue,red')
    expect(fromCrmValue(def('number'), ' 12,50 ')).toBe('12.5')
    expect(fromCrmValue(def('checkbox'), 'Yes')).toBe('true')
    expect(fromCrmValue(def('date'), 'tomorrow')).toBe('tomorrow')
    expect(fromCrmValue(def('text'), ' as is ')).toBe(' as is ')
  })
})
