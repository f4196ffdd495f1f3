import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import {
  E2E_TIMEOUT,
  firstGeneralConversation,
  openConversation,
  screenshot,
  signIn,
  startDemoServer,
} from './harness'

/** The controls an agent needs on the inbox, by CSS selector. */
const INBOX_CONTROLS = [
  '.brand-mark',
  '.nav-link',
  '[data-testid=connection]',
  '[data-testid=shortcuts-button]',
  '[data-testid=signed-in-as] .avatar',
  '.topbar-right > button:last-child',
  '[data-testid^=filter-]',
  '[data-testid=queue-item]',
  '[data-testid=queue-item-contact]',
  '.queue-item-meta',
  '.queue-item .status-pill',
  '[data-testid^=status-]',
  '[data-testid=reply-box]',
  '.composer button[type=submit]',
  '[data-testid=vip-toggle]',
  '.toolbar-buttons button',
  '[data-testid=conversation-contact]',
  '[data-testid=contact-name]',
  '[data-testid=contact-handle]',
]

/** The controls of the admin's attribute settings (the page scrolls; only widths are checked). */
const SETTINGS_CONTROLS = [
  '.nav-link',
  '[data-testid=drag-handle]',
  '[data-testid=admin-attribute] .attribute-main',
  '[data-testid=admin-attribute] [role=switch]',
  '[data-testid=new-attribute-label]',
  '[data-testid=new-attribute-type]',
  '[data-testid=create-attribute]',
  '[data-testid=matching-attribute]',
]

interface Box {
  readonly what: string
  readonly left: number
  readonly top: number
  readonly right: number
  readonly bottom: number
  /** The element's own content is wider or taller than its box (text cut off). */
  readonly clipped: boolean
}

interface Layout {
  readonly boxes: Box[]
  /** Pairs of controls that overlap, where neither holds the other. */
  readonly overlapping: string[]
}

/** The boxes of the key controls as the page lays them out (the first four of each). */
const layoutOf = (page: Page, controls: readonly string[]): Promise<Layout> =>
  page.evaluate((selectors) => {
    const found: { what: string; el: Element; r: DOMRect }[] = []
    for (const selector of selectors) {
      const elements = [...document.querySelectorAll(selector)].slice(0, 4)
      elements.forEach((el, i) => {
        const what = `${selector}#${i} "${(el.textContent ?? '').trim().slice(0, 24)}"`
        found.push({ what, el, r: el.getBoundingClientRect() })
      })
    }
    const overlapping: string[] = []
    for (const [i, a] of found.entries()) {
      for (const b of found.slice(i + 1)) {
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue
        const apart =
          a.r.right <= b.r.left + 0.5 ||
          b.r.right <= a.r.left + 0.5 ||
          a.r.bottom <= b.r.top + 0.5 ||
          b.r.bottom <= a.r.top + 0.5
        if (!apart) overlapping.push(`${a.what} overlaps ${b.what}`)
      }
    }
    const boxes = found.map(({ what, el, r }) => ({
      what,
      left: r.left,
      top: r.top,
      right: r.right,
      bottom: r.bottom,
      clipped: el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1,
    }))
    return { boxes, overlapping }
  }, controls)

/** Every character in the page that needs an emoji or symbol font to draw. */
const emojiIn = (page: Page): Promise<string[]> =>
  page.evaluate(() => [
    ...new Set(document.body.innerText.match(/[\p{Extended_Pictographic}\u{1D400}-\u{1D7FF}]/gu)),
  ])

describe('the inbox on narrower screens', () => {
  for (const width of [1024, 800]) {
    it(
      `keeps every key control in view, unclipped and apart at ${width} px`,
      async () => {
        const server = await startDemoServer()
        const ana = await signIn(server, 'ana')
        await ana.setViewportSize({ width, height: 720 })
        await openConversation(ana, await firstGeneralConversation(ana))
        await ana.getByTestId('reply-box').waitFor()
        await ana.getByTestId('vip-toggle').waitFor()

        const { boxes, overlapping } = await layoutOf(ana, INBOX_CONTROLS)
        for (const selector of INBOX_CONTROLS) {
          expect(
            boxes.some((b) => b.what.startsWith(`${selector}#`)),
            selector,
          ).toBe(true)
        }
        for (const box of boxes) {
          expect(box.left, `${box.what} left`).toBeGreaterThanOrEqual(0)
          expect(box.top, `${box.what} top`).toBeGreaterThanOrEqual(0)
          expect(box.right, `${box.what} right`).toBeLessThanOrEqual(width)
          expect(box.bottom, `${box.what} bottom`).toBeLessThanOrEqual(720)
          expect(box.clipped, `${box.what} is cut off`).toBe(false)
        }
        expect(overlapping).toEqual([])
        // Nothing makes the page scroll sideways.
        expect(await ana.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          width,
        )
        // Channel badges and stars are drawn as SVG, not as emoji or symbol characters.
        expect(await emojiIn(ana)).toEqual([])
        expect(await ana.locator('.channel-icon svg').count()).toBeGreaterThan(0)
        await screenshot(ana, `inbox-${width}px`)
      },
      E2E_TIMEOUT,
    )

    it(
      `keeps the attribute settings in width, unclipped and apart at ${width} px`,
      async () => {
        const server = await startDemoServer()
        const ana = await signIn(server, 'ana')
        await ana.setViewportSize({ width, height: 720 })
        await ana.getByRole('link', { name: 'Contact attributes' }).click()
        await ana.getByTestId('create-attribute').waitFor()

        const { boxes, overlapping } = await layoutOf(ana, SETTINGS_CONTROLS)
        for (const selector of SETTINGS_CONTROLS) {
          expect(
            boxes.some((b) => b.what.startsWith(`${selector}#`)),
            selector,
          ).toBe(true)
        }
        for (const box of boxes) {
          expect(box.left, `${box.what} left`).toBeGreaterThanOrEqual(0)
          expect(box.right, `${box.what} right`).toBeLessThanOrEqual(width)
          expect(box.clipped, `${box.what} is cut off`).toBe(false)
        }
        expect(overlapping).toEqual([])
        expect(await ana.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          width,
        )
        expect(await emojiIn(ana)).toEqual([])
        await screenshot(ana, `settings-${width}px`)
      },
      E2E_TIMEOUT,
    )
  }
})
