/**
 * A small seeded generator (mulberry32) for randomized tests, so a failing seed can be
 * replayed.
 *
 * @example
 * const rng = prng(42)
 * rng.pick(['a', 'b']); rng.int(10); rng.chance(0.25)
 */
export function prng(seed: number) {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    /** True with probability `p`. */
    chance: (p: number): boolean => next() < p,
    /** An integer in [0, n). */
    int: (n: number): number => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  }
}
