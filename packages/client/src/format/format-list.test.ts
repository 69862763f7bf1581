// docker/cli's formatter.Context behaviour: default table, table <template>, json, raw templates,
// header from the same template with Docker's HeaderFunctions, errors wrapped as Docker's.
import { describe, expect, it } from 'vitest';
import { formatList, headerName, resolveFormat, TemplateError } from './index.js';

const psTable = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';
const psHeaders = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES' };
const rows = [
  { Command: '"bash"', ID: 'da6ba5fc8048', Image: 'ubuntu', Labels: '', Names: 'amazing_margulis', Ports: '', RunningFor: 'About a minute ago', State: 'exited', Status: 'Exited (0) 11 seconds ago' },
  { Command: '"/hello"', ID: 'd108b720a077', Image: 'hello-world', Labels: 'a=b', Names: 'competent_ardinghelli', Ports: '', RunningFor: '7 minutes ago', State: 'exited', Status: 'Exited (0) 7 minutes ago' },
];
const ps = { defaultTable: psTable, headers: psHeaders, typeName: '*formatter.ContainerContext' };

describe('formatList', () => {
  it('no --format: the default table, aligned as docker ps', () => {
    expect(formatList(undefined, rows, ps)).toBe(
      'CONTAINER ID   IMAGE         COMMAND    CREATED              STATUS                      PORTS     NAMES\n' +
        'da6ba5fc8048   ubuntu        "bash"     About a minute ago   Exited (0) 11 seconds ago             amazing_margulis\n' +
        'd108b720a077   hello-world   "/hello"   7 minutes ago        Exited (0) 7 minutes ago              competent_ardinghelli\n',
    );
    expect(formatList('table', rows, ps)).toBe(formatList(undefined, rows, ps));
  });

  it('no rows: the header alone', () => {
    expect(formatList(undefined, [], ps)).toBe('CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  });

  it('table <template>: header from the same template', () => {
    expect(formatList('table {{.ID}}\\t{{.Names}}', rows, ps)).toBe(
      'CONTAINER ID   NAMES\n' + 'da6ba5fc8048   amazing_margulis\n' + 'd108b720a077   competent_ardinghelli\n',
    );
  });

  it('header functions leave column names intact, except pad', () => {
    expect(formatList('table {{upper .Image}}\\t{{json .Names}}\\t{{pad .ID 1 1}}|{{truncate .Status 6}}', rows.slice(0, 1), ps)).toBe(
      'IMAGE     NAMES                 CONTAINER ID |STATUS\n' + 'UBUNTU    "amazing_margulis"    da6ba5fc8048 |Exited\n',
    );
  });

  it('fields without a listed header are named from the field', () => {
    expect(headerName('CreatedAt')).toBe('CREATED AT');
    expect(headerName('LocalVolumes')).toBe('LOCAL VOLUMES');
    expect(headerName('ID')).toBe('ID');
    expect(formatList('table {{.State}}\\t{{.Labels}}', rows.slice(1), ps)).toBe('STATE     LABELS\n' + 'exited    a=b\n');
  });

  it('nested fields take their header by path', () => {
    const out = formatList('table {{.Config.Image}}\\t{{.State.Status}}', [{ Config: { Image: 'busybox' }, State: { Status: 'running' } }], {
      defaultTable: '',
      headers: { 'State.Status': 'STATE' },
    });
    expect(out).toBe('IMAGE     STATE\n' + 'busybox   running\n');
  });

  it('json: one object per line', () => {
    expect(formatList('json', rows, ps)).toBe(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect(formatList('{{json .}}', rows, ps)).toBe(formatList('json', rows, ps));
  });

  it('table {{json .}}: the header line is empty, as Docker prints it', () => {
    expect(formatList('table {{json .ID}}', rows.slice(0, 1), ps)).toBe('CONTAINER ID\n"da6ba5fc8048"\n');
    expect(formatList('table {{json .}}', rows.slice(0, 1), ps)).toBe('\n' + JSON.stringify(rows[0]) + '\n');
  });

  it('a raw template: one result per row, \\t and \\n unescaped, no alignment', () => {
    expect(formatList('{{.ID}}\\t{{.Names}}', rows, ps)).toBe('da6ba5fc8048\tamazing_margulis\nd108b720a077\tcompetent_ardinghelli\n');
    expect(formatList('{{.ID}}\\n{{.Image}}', rows.slice(0, 1), ps)).toBe('da6ba5fc8048\nubuntu\n');
    expect(formatList('  {{.ID}}  ', rows.slice(0, 1), ps)).toBe('da6ba5fc8048\n');
  });

  it('quiet: IDs only, unless a custom format is given', () => {
    expect(formatList(undefined, rows, { ...ps, quiet: true })).toBe('da6ba5fc8048\nd108b720a077\n');
    expect(formatList('{{.Names}}', rows, { ...ps, quiet: true })).toBe('amazing_margulis\ncompetent_ardinghelli\n');
  });

  it('a wide-character cell aligns', () => {
    expect(formatList('table {{.Names}}\\t{{.Image}}', [{ Names: 'ウェブ', Image: 'a' }, { Names: 'db', Image: 'b' }], ps)).toBe(
      'NAMES     IMAGE\n' + 'ウェブ    a\n' + 'db        b\n',
    );
  });

  it('errors are wrapped as Docker wraps them', () => {
    expect(() => formatList('{{foo}}', rows, ps)).toThrow(new TemplateError('template parsing error: template: :1: function "foo" not defined', 'parse'));
    expect(() => formatList('{{.Foo}}', rows, ps)).toThrow(
      'template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext',
    );
    expect(() => formatList('{{.Foo}}', rows, { ...ps, missingKey: 'default' })).not.toThrow();
  });

  it('resolveFormat: what Docker runs for a --format value', () => {
    expect(resolveFormat('json', ps)).toEqual({ template: '{{json .}}', table: false });
    expect(resolveFormat('table {{.ID}}\\t{{.Names}}', ps)).toEqual({ template: '{{.ID}}\t{{.Names}}', table: true });
    expect(resolveFormat(undefined, ps).table).toBe(true);
  });
});
