// Docker's output formats for berth's commands: Go templates (--format), docker/cli's table
// writer and its formatter (table/json/custom). See README.md.
export { Template, renderTemplate, type ExecuteOptions } from './exec.js';
export { formatList, resolveFormat, headerName, type FormatListOptions } from './format-list.js';
export { tabulate, tabwrite, type TabwriterOptions } from './tabwriter.js';
export { TemplateError } from './parse.js';
export { sprintf, goQuote } from './go-fmt.js';
export { goJSON, type FuncDef, type FuncLike, type ParamKind } from './funcs.js';
