/**
 * The record encoding of berth-runc-init's protocol (native/PROTOCOL.md): space-separated
 * fields, one record per line, every byte outside printable ASCII (and `%`, space) as `%XX`.
 */

export type Field = string | number | bigint;
export type PlanRecord = readonly [string, ...Field[]];

const SAFE = /^[\x21-\x24\x26-\x7e]$/; // printable ASCII without space and '%'

/** Encodes one field; the empty string becomes a lone `%`. */
export function encodeField(value: Field): string {
  const bytes = Buffer.from(String(value), 'utf8');
  if (bytes.length === 0) return '%';
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += SAFE.test(ch) ? ch : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Decodes one field (the inverse of encodeField). */
export function decodeField(text: string): string {
  if (text === '%') return '';
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%') {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function encodeRecord(record: PlanRecord): string {
  return record.map(encodeField).join(' ') + '\n';
}

export function decodeRecord(line: string): string[] {
  return line.split(' ').map(decodeField);
}

/** A whole plan: the version header, the records, `end`. */
export function encodePlan(records: readonly PlanRecord[]): string {
  return [['berth-init', 1] as PlanRecord, ...records, ['end'] as PlanRecord].map(encodeRecord).join('');
}
