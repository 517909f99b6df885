// `--parallel N`: at most N items (pairs) at once, every item visited, results in the items' order.
// Each item's own failures are its business (the callers report per pair); a slow item holds one
// worker, never the others.

/** fn over items, at most `limit` at once; resolves to the results in the order of `items`. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}
