// The executor of Go's text/template over plain JS values (see values.ts for the mapping).
// Errors read as Go's: template: :1:2: executing "" at <.Foo>: ...
import { builtins, dockerFuncs, headerFuncs, toFuncDef, type FuncDef, type FuncLike, type ParamKind } from './funcs.js';
import { printValue } from './go-fmt.js';
import { nodeString, parse, TemplateError, type Arg, type Command, type Node, type ParsedTemplate, type Pipe } from './parse.js';
import { goTypeName, isInt, isObject, isTrue, sortedKeys } from './values.js';

export interface ExecuteOptions {
  /**
   * What a missing key gives. 'default': "<no value>", as Go's maps (and `docker inspect`);
   * 'error': Go's missingkey=error; 'struct': an error as a Go struct's missing field gives
   * ("can't evaluate field Foo in type T"), as `docker ps --format '{{.Foo}}'` does.
   */
  missingKey?: 'default' | 'error' | 'struct';
  /** The Go type named in 'struct' errors for the top-level data (e.g. "*formatter.ContainerContext"). */
  typeName?: string;
  /**
   * Header mode (docker/cli's table header): every field chain evaluates to its column name,
   * from this function, and Docker's HeaderFunctions replace json, split, join and the others.
   */
  header?: (path: string) => string;
}

const MISSING: unique symbol = Symbol('missing');
type Final = unknown | typeof MISSING;

/** A field chain evaluated in header mode: the column name for its path. */
class HeaderRef {
  constructor(readonly path: string) {}
}

class Break {}
class Continue {}
const BREAK = new Break();
const CONTINUE = new Continue();
const MAX_DEPTH = 10000;

export class Template {
  private readonly parsed: ParsedTemplate;
  private readonly funcs: Map<string, FuncDef>;

  constructor(text: string, funcs: Record<string, FuncLike> = {}) {
    this.funcs = new Map(Object.entries({ ...builtins, ...dockerFuncs }));
    for (const [k, f] of Object.entries(funcs)) this.funcs.set(k, toFuncDef(f));
    this.parsed = parse(text, new Set(this.funcs.keys()));
  }

  /** Runs the template; throws TemplateError. `partial` receives the output written before an error. */
  execute(data: unknown, options: ExecuteOptions = {}, partial?: (out: string) => void): string {
    const funcs = options.header ? new Map([...this.funcs, ...Object.entries(headerFuncs)]) : this.funcs;
    const root = options.header ? new HeaderRef('') : data;
    const state = new State(this.parsed, funcs, options, root);
    try {
      state.walk(root, this.parsed.root);
    } catch (e) {
      partial?.(state.out);
      throw e;
    }
    return state.out;
  }
}

class State {
  out = '';
  private vars: { name: string; value: unknown }[];
  private node: Arg | Command | Node | undefined;
  private depth = 0;

  constructor(
    private readonly tmpl: ParsedTemplate,
    private readonly funcs: Map<string, FuncDef>,
    private readonly opts: ExecuteOptions,
    private readonly root: unknown,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  private at(n: Arg | Command | Node): void {
    this.node = n;
  }

  private errorf(msg: string): never {
    if (!this.node) throw new TemplateError(`template: : ${msg}`, 'exec');
    const pos = this.node.pos;
    const before = this.tmpl.text.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = Buffer.byteLength(before.slice(nl + 1));
    let context = 'type' in this.node && ['field', 'variable', 'chain', 'identifier', 'dot', 'nil', 'bool', 'number', 'string', 'command', 'pipe'].includes(this.node.type)
      ? nodeString(this.node as Arg | Command)
      : this.nodeText(this.node as Node);
    const runes = Array.from(context);
    if (runes.length > 20) context = runes.slice(0, 20).join('') + '...';
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${context}>: ${msg}`, 'exec');
  }

  private nodeText(n: Node): string {
    switch (n.type) {
      case 'text': return n.text;
      case 'action': return `{{${nodeString(n.pipe)}}}`;
      case 'if': case 'with': case 'range': return `{{${n.type} ${nodeString(n.pipe)}}}`;
      case 'template': return `{{template ${JSON.stringify(n.name)}${n.pipe ? ' ' + nodeString(n.pipe) : ''}}}`;
      default: return `{{${n.type}}}`;
    }
  }

  // ---- variables ----

  private push(name: string, value: unknown): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking ----

  walk(dot: unknown, list: Node[]): void {
    for (const n of list) this.walkNode(dot, n);
  }

  private walkNode(dot: unknown, n: Node): void {
    this.at(n);
    switch (n.type) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.out += printValue(this.resolve(v));
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        try {
          const v = this.resolve(this.evalPipeline(dot, n.pipe));
          if (isTrue(v)) this.walk(n.type === 'with' ? v : dot, n.list);
          else if (n.elseList) this.walk(dot, n.elseList);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'range':
        return this.walkRange(dot, n);
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'template': {
        const list = this.tmpl.defines.get(n.name);
        if (!list) this.errorf(`template ${JSON.stringify(n.name)} not defined`);
        const newDot = n.pipe ? this.resolve(this.evalPipeline(dot, n.pipe)) : undefined;
        if (++this.depth > MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
        const saved = this.vars;
        this.vars = [{ name: '$', value: newDot }];
        try {
          this.walk(newDot, list!);
        } finally {
          this.vars = saved;
          this.depth--;
        }
        return;
      }
    }
  }

  private walkRange(dot: unknown, r: Extract<Node, { type: 'if' | 'with' | 'range' }>): void {
    const mark0 = this.vars.length;
    try {
      const val = this.resolve(this.evalPipeline(dot, r.pipe));
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!, decl.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!, elem);
          else this.vars[this.vars.length - 2]!.value = index;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e === BREAK) return false;
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
        return true;
      };
      let n = 0;
      if (Array.isArray(val)) {
        for (; n < val.length; n++) if (!one(n, val[n])) break;
      } else if (isObject(val)) {
        for (const k of sortedKeys(val)) {
          n++;
          if (!one(k, val[k])) break;
        }
      } else if (isInt(val)) {
        if (decl.length > 1) this.errorf(`can't use ${printValue(val)} to iterate over more than one variable`);
        for (; n < Number(val); n++) if (!one(n, n)) break;
      } else if (val !== undefined && val !== null) {
        this.errorf(`range can't iterate over ${printValue(val)}`);
      }
      if (n === 0 && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = mark0;
    }
  }

  // ---- evaluation ----

  /** Header references become their column names once a value is used. */
  private resolve(v: unknown): unknown {
    if (v instanceof HeaderRef) return v.path === '' ? '' : this.opts.header!(v.path);
    return v;
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    this.at(pipe);
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.push(name, value);
    }
    return value;
  }

  private notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field': return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain': return this.evalChain(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable': return this.evalVariable(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.errorf('nil is not a command');
      case 'number': return first.value;
      case 'string': return first.text;
    }
  }

  private evalChain(dot: unknown, chain: Extract<Arg, { type: 'chain' }>, args: Arg[], final: Final): unknown {
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const recv = this.evalArg(dot, chain.node, 'any');
    return this.evalFieldChain(dot, recv, chain, chain.fields, args, final);
  }

  private evalVariable(dot: unknown, v: Extract<Arg, { type: 'variable' }>, args: Arg[], final: Final): unknown {
    this.at(v);
    const value = this.varValue(v.idents[0]!);
    if (v.idents.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents.slice(1), args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Arg, idents: string[], args: Arg[], final: Final): unknown {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, idents[i]!, node, [], MISSING, receiver);
    return this.resolve(this.evalField(dot, idents[n - 1]!, node, args, final, receiver));
  }

  private evalField(dot: unknown, name: string, node: Arg, args: Arg[], final: Final, receiver: unknown): unknown {
    this.at(node);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (receiver instanceof HeaderRef) return new HeaderRef(receiver.path === '' ? name : `${receiver.path}.${name}`);
    if (receiver === undefined) {
      if (this.opts.missingKey === 'error') this.errorf(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    if (isObject(receiver)) {
      const own = Object.hasOwn(receiver, name);
      const v = own ? receiver[name] : undefined;
      if (typeof v === 'function') return this.callMethod(dot, receiver, v as (...a: unknown[]) => unknown, name, node, args, final);
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      if (!own) {
        if (this.opts.missingKey === 'error') this.errorf(`map has no entry for key ${JSON.stringify(name)}`);
        if (this.opts.missingKey === 'struct') {
          const type = receiver === this.root && this.opts.typeName ? this.opts.typeName : goTypeName(receiver);
          this.errorf(`can't evaluate field ${name} in type ${type}`);
        }
      }
      return v;
    }
    return this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private callMethod(dot: unknown, recv: object, fn: (...a: unknown[]) => unknown, name: string, node: Arg, args: Arg[], final: Final): unknown {
    const argv = args.slice(1).map((a) => this.evalArg(dot, a, 'any'));
    if (final !== MISSING) argv.push(final);
    try {
      return fn.apply(recv, argv);
    } catch (e) {
      this.at(node);
      return this.errorf(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  private evalFunction(dot: unknown, ident: Extract<Arg, { type: 'identifier' }>, cmd: Arg | Command, args: Arg[], final: Final): unknown {
    this.at(ident);
    const name = ident.name;
    const def = this.funcs.get(name);
    if (!def) return this.errorf(`${JSON.stringify(name)} is not a defined function`);
    const rest = args.slice(1); // the function's own name is args[0]
    const numIn = rest.length + (final === MISSING ? 0 : 1);
    const numFixed = def.params.length;
    if (def.variadic) {
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${rest.length}`);
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    if ((name === 'and' || name === 'or') && !this.funcsOverridden(name)) {
      // short-circuit: the first false (and) or true (or) argument, else the last one
      let v: unknown;
      for (const a of rest) {
        v = this.evalArg(dot, a, 'any');
        if (isTrue(v) === (name === 'or')) return v;
      }
      return final === MISSING ? v : this.validate(final, 'any');
    }
    const kindAt = (i: number): ParamKind => (i < numFixed ? def.params[i]! : def.variadic!);
    const argv = rest.map((a, i) => this.evalArg(dot, a, kindAt(i)));
    if (final !== MISSING) {
      this.at(ident);
      argv.push(this.validate(final, kindAt(rest.length)));
    }
    try {
      return def.fn(...argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(cmd);
      return this.errorf(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  private funcsOverridden(name: string): boolean {
    return this.funcs.get(name) !== builtins[name];
  }

  /** Go's validateType: a computed value against a parameter's type. */
  private validate(v: unknown, kind: ParamKind): unknown {
    v = this.resolve(v);
    switch (kind) {
      case 'any':
        return v === undefined ? null : v;
      case 'string':
        if (typeof v === 'string') return v;
        break;
      case 'int':
        if (isInt(v)) return Number(v);
        break;
      case 'bool':
        if (typeof v === 'boolean') return v;
        break;
      case 'strings':
        if (v === null || v === undefined) return null;
        if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return v;
        if (Array.isArray(v) && v.length === 0) return v;
        break;
    }
    const goKind = kind === 'strings' ? '[]string' : kind;
    if (v === undefined) return this.errorf(`invalid value; expected ${goKind}`);
    return this.errorf(`wrong type for value; expected ${goKind}; got ${goTypeName(v)}`);
  }

  /** Go's evalArg: literals are checked against the parameter's type, other nodes evaluated. */
  private evalArg(dot: unknown, n: Arg, kind: ParamKind): unknown {
    this.at(n);
    switch (n.type) {
      case 'dot': return this.validate(dot, kind);
      case 'nil':
        if (kind === 'any' || kind === 'strings') return null;
        return this.errorf(`cannot assign nil to ${kind}`);
      case 'field': return this.validate(this.evalFieldChain(dot, dot, n, n.idents, [n], MISSING), kind);
      case 'variable': return this.validate(this.evalVariable(dot, n, [], MISSING), kind);
      case 'pipe': return this.validate(this.evalPipeline(dot, n), kind);
      case 'identifier': return this.validate(this.evalFunction(dot, n, n, [], MISSING), kind);
      case 'chain': return this.validate(this.evalChain(dot, n, [], MISSING), kind);
    }
    switch (kind) {
      case 'any':
        if (n.type === 'bool') return n.value;
        if (n.type === 'string') return n.text;
        return n.value;
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return Number(n.value);
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case 'strings':
        return this.errorf(`can't handle ${nodeString(n)} for arg of type []string`);
    }
  }
}

/** Parses and runs a Go template once over data. Throws TemplateError. */
export function renderTemplate(text: string, data: unknown, options: ExecuteOptions & { funcs?: Record<string, FuncLike> } = {}): string {
  return new Template(text, options.funcs).execute(data, options);
}
