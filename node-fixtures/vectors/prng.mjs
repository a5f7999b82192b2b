// Small seeded PRNG (mulberry32) and helpers. Deterministic across runs and platforms.
export function mulberry32(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32: next,
    // integer in [0, n)
    int: (n) => next() % n,
    float: () => next() / 4294967296,
    pick: (arr) => arr[next() % arr.length],
    bool: () => (next() & 1) === 1,
  };
}
