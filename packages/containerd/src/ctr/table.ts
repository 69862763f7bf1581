/** Columns as ctr's tabwriter prints them: left-aligned, padded to the widest cell plus spaces. */
export function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 4))).join('').trimEnd()).join('\n');
}
