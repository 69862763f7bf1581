// How plain JS values stand for Go values in templates. Docker's templates run over Go structs,
// maps and slices; Berth's callers hand over plain objects shaped like Docker's JSON, so:
//   undefined          -> an invalid reflect.Value (a missing map key): prints "<no value>"
//   null               -> a nil pointer / interface: prints "<nil>"
//   integer number     -> int (up to 2^53); other numbers -> float64; bigint -> int64
//   string, boolean    -> string, bool
//   array              -> a slice; plain object -> map[string]interface{} (printed with sorted keys)
//   function           -> a method: `.Label "x"` calls it with the arguments

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v));
}

export function isFloat(v: unknown): v is number {
  return typeof v === 'number' && !Number.isSafeInteger(v);
}

/** The Go type name Docker users would see in error messages (%T, "wrong type ... got X"). */
export function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'bigint': return 'int64';
    case 'number': return Number.isSafeInteger(v) ? 'int' : 'float64';
    case 'function': return 'func';
  }
  if (Array.isArray(v)) return v.length > 0 && v.every((e) => typeof e === 'string') ? '[]string' : '[]interface {}';
  return 'map[string]interface {}';
}

/** Go's template truth: false, 0, "", nil and empty slices/maps are false. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'string': return v.length > 0;
    case 'boolean': return v;
    case 'number': return v !== 0 && !Number.isNaN(v);
    case 'bigint': return v !== 0n;
    case 'function': return true;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Map keys in the order Go prints and ranges over them (sorted). */
export function sortedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
