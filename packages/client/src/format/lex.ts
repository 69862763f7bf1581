// The lexer of Go's text/template: text and {{actions}}, trim markers ("{{- " and " -}}"),
// comments, and the tokens inside actions. Messages are Go's, so errors read as Docker's do.

export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'comment'
  | 'identifier' | 'keyword' | 'field' | 'variable' | 'dot' | 'bool' | 'nil'
  | 'number' | 'char' | 'charConstant' | 'string' | 'rawString'
  | 'pipe' | 'leftParen' | 'rightParen' | 'declare' | 'assign'
  | 'eof' | 'error';

export interface Token {
  type: TokenType;
  val: string;
  pos: number; // index into the template text
  line: number; // 1-based
}

export const keywords = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);

const LEFT = '{{';
const RIGHT = '}}';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));
}

/** Go's %#U of a rune: U+0023 '#'. */
export function runeDesc(r: string): string {
  const hex = r.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(r) ? `U+${hex} '${r}'` : `U+${hex}`;
}

export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;

  const emit = (type: TokenType, val = input.slice(start, pos)): void => {
    tokens.push({ type, val, pos: start, line: startLine });
    start = pos;
    startLine = line;
  };
  const advance = (n: number): void => {
    for (let i = 0; i < n; i++) if (input[pos + i] === '\n') line++;
    pos += n;
  };
  const ignore = (): void => {
    start = pos;
    startLine = line;
  };
  const fail = (msg: string): Token[] => {
    tokens.push({ type: 'error', val: msg, pos: start, line: startLine });
    return tokens;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (isSpace(input[pos]) && input[pos + 1] === '-' && input.startsWith(RIGHT, pos + 2)) return { delim: true, trim: true };
    if (input.startsWith(RIGHT, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if ('.,|:)('.includes(c)) return true;
    return input.startsWith(RIGHT, pos);
  };

  for (;;) {
    // text up to the next action
    const next = input.indexOf(LEFT, pos);
    if (next < 0) {
      advance(input.length - pos);
      if (pos > start) emit('text');
      tokens.push({ type: 'eof', val: '', pos, line });
      return tokens;
    }
    const trimLeft = input[next + 2] === '-' && isSpace(input[next + 3]);
    let textEnd = next;
    if (trimLeft) while (textEnd > start && isSpace(input[textEnd - 1])) textEnd--;
    advance(textEnd - pos);
    if (pos > start) emit('text');
    advance(next - pos);
    ignore();
    const afterDelim = next + (trimLeft ? 4 : 2);
    if (input.startsWith('/*', afterDelim)) {
      // a comment is one token; its delimiters are not emitted
      advance(afterDelim - pos);
      ignore();
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) return fail('unclosed comment');
      advance(close + 2 - pos);
      emit('comment');
      const r = atRightDelim();
      if (!r.delim) return fail('comment ends before closing delimiter');
      advance(r.trim ? 4 : 2);
      ignore();
      if (r.trim) {
        while (isSpace(input[pos])) advance(1);
        ignore();
      }
      continue;
    }
    // the left delimiter, then inside the action
    advance(2);
    emit('leftDelim');
    if (trimLeft) {
      advance(2);
      ignore();
    }
    for (;;) {
      const r = atRightDelim();
      if (r.delim && parenDepth === 0) {
        if (r.trim) {
          advance(2);
          ignore();
        }
        advance(2);
        emit('rightDelim');
        if (r.trim) {
          while (isSpace(input[pos])) advance(1);
          ignore();
        }
        break;
      }
      if (r.delim) return fail('unclosed left paren');
      const c = input[pos];
      if (c === undefined) return fail('unclosed action');
      if (isSpace(c)) {
        // spaces, but leave the one before a " -}}" to the delimiter
        let n = 0;
        while (isSpace(input[pos]) && !(input[pos + 1] === '-' && input.startsWith(RIGHT, pos + 2))) {
          advance(1);
          n++;
        }
        if (n === 0) continue; // only the space of " -}}": the delimiter check takes it
        emit('space');
        continue;
      }
      if (c === '=') {
        advance(1);
        emit('assign');
      } else if (c === ':') {
        if (input[pos + 1] !== '=') {
          advance(1);
          return fail('expected :=');
        }
        advance(2);
        emit('declare');
      } else if (c === '|') {
        advance(1);
        emit('pipe');
      } else if (c === '"') {
        advance(1);
        for (;;) {
          const d = input[pos];
          if (d === '\\') {
            if (input[pos + 1] === undefined || input[pos + 1] === '\n') return fail('unterminated quoted string');
            advance(2);
          } else if (d === undefined || d === '\n') return fail('unterminated quoted string');
          else {
            advance(1);
            if (d === '"') break;
          }
        }
        emit('string');
      } else if (c === '`') {
        const close = input.indexOf('`', pos + 1);
        if (close < 0) return fail('unterminated raw quoted string');
        advance(close + 1 - pos);
        emit('rawString');
      } else if (c === "'") {
        advance(1);
        for (;;) {
          const d = input[pos];
          if (d === '\\') {
            if (input[pos + 1] === undefined || input[pos + 1] === '\n') return fail('unterminated character constant');
            advance(2);
          } else if (d === undefined || d === '\n') return fail('unterminated character constant');
          else {
            advance(1);
            if (d === "'") break;
          }
        }
        emit('charConstant');
      } else if (c === '$' || (c === '.' && !/[0-9]/.test(input[pos + 1] ?? ''))) {
        // a variable or field, possibly just "$" or "."
        advance(1);
        if (atTerminator()) {
          emit(c === '$' ? 'variable' : 'dot');
          continue;
        }
        while (isAlnum(input[pos])) advance(1);
        if (!atTerminator()) return fail(`bad character ${runeDesc(String.fromCodePoint(input.codePointAt(pos)!))}`);
        emit(c === '$' ? 'variable' : 'field');
      } else if (c === '+' || c === '-' || c === '.' || /[0-9]/.test(c)) {
        if (!scanNumber()) return fail(`bad number syntax: ${JSON.stringify(input.slice(start, pos))}`);
        emit('number');
      } else if (isAlnum(c)) {
        while (isAlnum(input[pos])) advance(1);
        if (!atTerminator()) return fail(`bad character ${runeDesc(String.fromCodePoint(input.codePointAt(pos)!))}`);
        const word = input.slice(start, pos);
        if (keywords.has(word)) emit(word === 'nil' ? 'nil' : 'keyword');
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
      } else if (c === '(') {
        advance(1);
        emit('leftParen');
        parenDepth++;
      } else if (c === ')') {
        advance(1);
        parenDepth--;
        if (parenDepth < 0) return fail('unexpected right paren');
        emit('rightParen');
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) {
        advance(1);
        emit('char');
      } else {
        return fail(`unrecognized character in action: ${runeDesc(String.fromCodePoint(input.codePointAt(pos)!))}`);
      }
    }
  }

  function scanNumber(): boolean {
    if (input[pos] === '+' || input[pos] === '-') advance(1);
    let digits = '0123456789_';
    let exp = 'eE';
    if (input[pos] === '0' && /[xXoObB]/.test(input[pos + 1] ?? '')) {
      const k = input[pos + 1]!.toLowerCase();
      advance(2);
      digits = k === 'x' ? '0123456789abcdefABCDEF_' : k === 'o' ? '01234567_' : '01_';
      if (k === 'x') exp = 'pP';
    }
    const run = (set: string): void => {
      while (input[pos] !== undefined && set.includes(input[pos]!)) advance(1);
    };
    run(digits);
    if (input[pos] === '.') {
      advance(1);
      run(digits);
    }
    if (input[pos] !== undefined && exp.includes(input[pos]!)) {
      advance(1);
      if (input[pos] === '+' || input[pos] === '-') advance(1);
      run('0123456789_');
    }
    if (input[pos] === 'i') advance(1);
    if (isAlnum(input[pos])) {
      advance(1);
      return false;
    }
    return true;
  }
}
