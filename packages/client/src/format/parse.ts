// The parser of Go's text/template, following its grammar and its error messages
// ("template: :1: function \"foo\" not defined"): parse errors carry the line only, as Go's do.
import { lex, type Token } from './lex.js';

export type Arg =
  | { type: 'field'; pos: number; idents: string[] }
  | { type: 'variable'; pos: number; idents: string[] }
  | { type: 'chain'; pos: number; node: Arg; fields: string[] }
  | { type: 'identifier'; pos: number; name: string }
  | { type: 'dot'; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'number'; pos: number; text: string; isInt: boolean; value: number | bigint; isFloatText: boolean }
  | { type: 'string'; pos: number; quoted: string; text: string }
  | Pipe;

export interface Command {
  type: 'command';
  pos: number;
  args: Arg[];
}

export interface Pipe {
  type: 'pipe';
  pos: number;
  line: number;
  isAssign: boolean;
  decl: string[];
  declPos: number[];
  cmds: Command[];
}

export type Node =
  | { type: 'text'; pos: number; text: string }
  | { type: 'action'; pos: number; line: number; pipe: Pipe }
  | { type: 'if' | 'with' | 'range'; pos: number; line: number; pipe: Pipe; list: Node[]; elseList: Node[] | undefined }
  | { type: 'template'; pos: number; line: number; name: string; pipe: Pipe | undefined }
  | { type: 'break' | 'continue'; pos: number; line: number };

type Marker = { type: 'end' | 'else'; pos: number; line: number };

export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(message: string, readonly phase: 'parse' | 'exec') {
    super(message);
  }
}

export interface ParsedTemplate {
  root: Node[];
  defines: Map<string, Node[]>;
  text: string;
}

/** The text a node prints as in an error's context (Go's Node.String()). */
export function nodeString(n: Arg | Command): string {
  switch (n.type) {
    case 'field': return '.' + n.idents.join('.');
    case 'variable': return n.idents.join('.');
    case 'chain': return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + '.' + n.fields.join('.');
    case 'identifier': return n.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number': return n.text;
    case 'string': return n.quoted;
    case 'command': return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'pipe': {
      const decl = n.decl.length > 0 ? n.decl.join(', ') + (n.isAssign ? ' = ' : ' := ') : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
  }
}

// Go's item String(): "EOF", <keyword>, or the quoted text (cut at 10 runes).
function tokenDesc(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (t.type === 'keyword' || t.type === 'nil') return `<${t.val}>`;
  const runes = Array.from(t.val);
  if (runes.length > 10) return JSON.stringify(runes.slice(0, 10).join('')) + '...';
  return JSON.stringify(t.val);
}

/** strconv.Unquote for "..." strings and '...' characters. */
export function unquote(q: string): string {
  const body = q.slice(1, -1);
  if (q[0] === '`') return body.replace(/\r/g, '');
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const hex = (n: number): void => {
      const h = body.slice(i + 1, i + 1 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Error('invalid syntax');
      out += String.fromCodePoint(parseInt(h, 16));
      i += n;
    };
    switch (e) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': case "'": out += e; break;
      case 'x': hex(2); break;
      case 'u': hex(4); break;
      case 'U': hex(8); break;
      default:
        if (e !== undefined && /[0-7]/.test(e)) {
          const o = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(o)) throw new Error('invalid syntax');
          out += String.fromCharCode(parseInt(o, 8));
          i += 2;
        } else throw new Error('invalid syntax');
    }
  }
  return out;
}

function parseNumber(text: string): { isInt: boolean; value: number | bigint } | undefined {
  if (text.startsWith("'")) {
    const s = unquote(text);
    if (Array.from(s).length !== 1) return undefined;
    return { isInt: true, value: s.codePointAt(0)! };
  }
  if (text.endsWith('i')) return undefined; // complex numbers: not for Docker's templates
  const clean = text.replace(/_/g, '');
  const neg = clean.startsWith('-');
  const body = clean.replace(/^[+-]/, '');
  let big: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$|^0[oO]?[0-7]+$|^0[bB][01]+$|^[1-9][0-9]*$|^0$/.test(body)) {
    big = BigInt(/^0[0-7]+$/.test(body) ? '0o' + body.slice(1) : body);
    if (neg) big = -big;
  }
  if (big !== undefined) {
    const n = Number(big);
    return { isInt: true, value: Number.isSafeInteger(n) ? n : big };
  }
  const f = /^0[xX]/.test(body) ? NaN : Number(body);
  if (Number.isNaN(f)) return undefined;
  const v = neg ? -f : f;
  return { isInt: Number.isInteger(v), value: v };
}

export function parse(text: string, funcs: ReadonlySet<string>): ParsedTemplate {
  const tokens = lex(text);
  let i = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  let lastLine = 1;
  const defines = new Map<string, Node[]>();

  const errorf = (msg: string): never => {
    throw new TemplateError(`template: :${lastLine}: ${msg}`, 'parse');
  };
  const next = (): Token => {
    const t = tokens[Math.min(i, tokens.length - 1)]!;
    i++;
    lastLine = t.line;
    if (t.type === 'error') errorf(t.val);
    return t;
  };
  const backup = (n = 1): void => {
    i -= n;
  };
  const peek = (): Token => tokens[Math.min(i, tokens.length - 1)]!;
  const nextNonSpace = (): Token => {
    let t = next();
    while (t.type === 'space') t = next();
    return t;
  };
  const peekNonSpace = (): Token => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (t: Token, context: string): never => errorf(`unexpected ${tokenDesc(t)} in ${context}`);
  const expect = (type: Token['type'], context: string): Token => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };

  function term(): Arg | undefined {
    const t = nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!funcs.has(t.val)) errorf(`function ${JSON.stringify(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, name: t.val };
      case 'dot': return { type: 'dot', pos: t.pos };
      case 'nil': return { type: 'nil', pos: t.pos };
      case 'variable': {
        const idents = t.val.split('.');
        if (!vars.includes(idents[0]!)) errorf(`undefined variable ${JSON.stringify(idents[0])}`);
        return { type: 'variable', pos: t.pos, idents };
      }
      case 'field': return { type: 'field', pos: t.pos, idents: t.val.slice(1).split('.') };
      case 'bool': return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'number': case 'charConstant': {
        let n: ReturnType<typeof parseNumber>;
        try {
          n = parseNumber(t.val);
        } catch {
          n = undefined;
        }
        if (!n) return errorf(`illegal number syntax: ${JSON.stringify(t.val)}`);
        const isFloatText = t.type === 'number' && !/^[+-]?0[xX]/.test(t.val) && /[.eEpP]/.test(t.val);
        return { type: 'number', pos: t.pos, text: t.val, isInt: n.isInt, value: n.value, isFloatText };
      }
      case 'leftParen': return pipeline('parenthesized pipeline', 'rightParen');
      case 'string': case 'rawString': {
        let s = '';
        try {
          s = unquote(t.val);
        } catch {
          errorf('invalid syntax');
        }
        return { type: 'string', pos: t.pos, quoted: t.val, text: s };
      }
    }
    backup();
    return undefined;
  }

  function operand(): Arg | undefined {
    const node = term();
    if (!node) return undefined;
    if (peek().type !== 'field') return node;
    const fields: string[] = [];
    while (peek().type === 'field') fields.push(next().val.slice(1));
    switch (node.type) {
      case 'field': return { type: 'field', pos: node.pos, idents: [...node.idents, ...fields.flatMap((f) => f.split('.'))] };
      case 'variable': return { type: 'variable', pos: node.pos, idents: [...node.idents, ...fields.flatMap((f) => f.split('.'))] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        return errorf(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
      default:
        return { type: 'chain', pos: node.pos, node, fields: fields.flatMap((f) => f.split('.')) };
    }
  }

  function command(): Command {
    const cmd: Command = { type: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op) cmd.args.push(op);
      const t = next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') backup();
      else if (t.type !== 'pipe') unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) errorf('empty command');
    return cmd;
  }

  function pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const first = peekNonSpace();
    const pipe: Pipe = { type: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], declPos: [], cmds: [] };
    decls: for (;;) {
      const v = peekNonSpace();
      if (v.type !== 'variable') break;
      const save = i;
      nextNonSpace();
      const after = peek();
      const n = peekNonSpace();
      if (n.type === 'assign' || n.type === 'declare') {
        pipe.isAssign = n.type === 'assign';
        nextNonSpace();
        pipe.decl.push(v.val);
        pipe.declPos.push(v.pos);
        vars.push(v.val);
        break;
      }
      if (n.type === 'char' && n.val === ',') {
        nextNonSpace();
        pipe.decl.push(v.val);
        pipe.declPos.push(v.pos);
        vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = peekNonSpace();
          if (p.type === 'variable' || p.type === 'rightDelim' || p.type === 'rightParen') continue decls;
          errorf('range can only initialize variables');
        }
        errorf(`too many declarations in ${context}`);
      }
      void after;
      i = save;
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, k) => {
          if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0]!.type)) errorf(`non executable command in pipeline stage ${k + 2}`);
        });
        return pipe;
      }
      switch (t.type) {
        case 'bool': case 'charConstant': case 'dot': case 'field': case 'identifier': case 'number':
        case 'nil': case 'rawString': case 'string': case 'variable': case 'leftParen':
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  }

  function itemList(): [Node[], Marker] {
    const list: Node[] = [];
    while (peekNonSpace().type !== 'eof') {
      const n = textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n as Marker];
      list.push(n as Node);
    }
    return errorf('unexpected EOF');
  }

  function control(context: 'if' | 'with' | 'range'): Node {
    const mark = vars.length;
    try {
      const pipe = pipeline(context, 'rightDelim');
      if (context === 'range') rangeDepth++;
      const [list, marker] = itemList();
      if (context === 'range') rangeDepth--;
      let elseList: Node[] | undefined;
      if (marker.type === 'else') {
        const p = peek();
        if ((context === 'if' && p.type === 'keyword' && p.val === 'if') || (context === 'with' && p.type === 'keyword' && p.val === 'with')) {
          next();
          elseList = [control(context)];
        } else {
          const [l, m] = itemList();
          if (m.type !== 'end') errorf(`expected end; found {{${m.type}}}`);
          elseList = l;
        }
      }
      return { type: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      vars = vars.slice(0, mark);
    }
  }

  function templateName(context: string): string {
    const t = nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') unexpected(t, context);
    return unquote(t.val);
  }

  function action(): Node | Marker {
    const t = nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.val) {
        case 'if': case 'with': case 'range':
          return control(t.val);
        case 'else': {
          const p = peekNonSpace();
          if (p.type === 'keyword' && (p.val === 'if' || p.val === 'with')) return { type: 'else', pos: p.pos, line: p.line };
          const d = expect('rightDelim', 'else');
          return { type: 'else', pos: d.pos, line: d.line };
        }
        case 'end': {
          const d = expect('rightDelim', 'end');
          return { type: 'end', pos: d.pos, line: d.line };
        }
        case 'break': case 'continue': {
          if (rangeDepth === 0) errorf(`{{${t.val}}} outside {{range}}`);
          expect('rightDelim', `{{${t.val}}}`);
          return { type: t.val, pos: t.pos, line: t.line };
        }
        case 'template': {
          const name = templateName('template clause');
          let pipe: Pipe | undefined;
          if (nextNonSpace().type !== 'rightDelim') {
            backup();
            pipe = pipeline('template clause', 'rightDelim');
          }
          return { type: 'template', pos: t.pos, line: t.line, name, pipe };
        }
        case 'block': {
          const name = templateName('block clause');
          const pipe = pipeline('block clause', 'rightDelim');
          const saved = vars;
          vars = ['$'];
          const [list, m] = itemList();
          vars = saved;
          if (m.type !== 'end') errorf(`unexpected {{${m.type}}} in block clause`);
          defines.set(name, list);
          return { type: 'template', pos: t.pos, line: t.line, name, pipe };
        }
        case 'define':
          return errorf('unexpected <define> in command');
      }
    }
    backup();
    const p = peek();
    return { type: 'action', pos: p.pos, line: p.line, pipe: pipeline('command', 'rightDelim') };
  }

  function textOrAction(): Node | Marker {
    const t = nextNonSpace();
    switch (t.type) {
      case 'text': return { type: 'text', pos: t.pos, text: t.val };
      case 'leftDelim': return action();
      case 'comment': return { type: 'text', pos: t.pos, text: '' };
    }
    return unexpected(t, 'input');
  }

  const root: Node[] = [];
  while (peek().type !== 'eof') {
    if (peek().type === 'leftDelim') {
      const save = i;
      next();
      const k = nextNonSpace();
      if (k.type === 'keyword' && k.val === 'define') {
        const name = templateName('define clause');
        expect('rightDelim', 'define clause');
        const saved = vars;
        vars = ['$'];
        const [list, m] = itemList();
        vars = saved;
        if (m.type !== 'end') errorf(`unexpected {{${m.type}}} in define clause`);
        defines.set(name, list);
        continue;
      }
      i = save;
    }
    const n = textOrAction();
    if (n.type === 'end' || n.type === 'else') errorf(`unexpected {{${n.type}}}`);
    root.push(n as Node);
  }
  return { root, defines, text };
}
