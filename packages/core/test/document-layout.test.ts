import { describe, expect, it } from 'vitest'
import { formatDocName, parseAttributeKey, parseDocName, parseOptionKey } from '../src/index'

describe('document names', () => {
  it('parses the three document kinds and round-trips them', () => {
    for (const name of ['demo/schema', 'demo/contact/c1', 'demo/conversation/v-2']) {
      const parsed = parseDocName(name)
      expect(parsed).not.toBeNull()
      expect(formatDocName(parsed!)).toBe(name)
    }
  })

  it('refuses malformed names', () => {
    for (const name of [
      '',
      'demo',
      'demo/contact',
      'demo/contact/',
      'de mo/schema',
      'demo/other/x',
      'demo/contact/a/b',
      '../x/schema',
    ]) {
      expect(parseDocName(name)).toBeNull()
    }
  })
})

describe('schema keys', () => {
  it('parses attribute and option keys and refuses unknown props', () => {
    expect(parseAttributeKey('email:label')).toEqual({ attributeId: 'email', prop: 'label' })
    expect(parseAttributeKey('x_handle:visible:x')).toEqual({
      attributeId: 'x_handle',
      prop: 'channelVisible',
      channel: 'x',
    })
    expect(parseAttributeKey('email:colour')).toBeNull()
    expect(parseOptionKey('plan:gold:label')).toEqual({
      attributeId: 'plan',
      optionId: 'gold',
      prop: 'label',
    })
    expect(parseOptionKey('plan:gold:price')).toBeNull()
  })
})
