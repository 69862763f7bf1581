// Cases checked against what Go's text/template (with docker/cli's functions) prints for the
// same template over the same data (Go structs/maps shaped like Docker's JSON).
import { describe, expect, it } from 'vitest';
import { renderTemplate, Template, TemplateError } from './index.js';

const inspect = {
  Id: '4f66ad9a0b2e',
  Name: '/web',
  Args: ['-c', 'echo hi'],
  State: { Status: 'running', Running: true, Paused: false, Pid: 4242, ExitCode: 0, Health: null },
  Config: {
    Env: ['PATH=/usr/bin', 'TERM=xterm'],
    Labels: { 'com.example.b': 'two', 'com.example.a': 'one' },
    Cmd: ['sh'],
    Tty: false,
  },
  NetworkSettings: {
    Networks: { bridge: { IPAddress: '172.17.0.2' }, backend: { IPAddress: '10.0.0.5' } },
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
  },
  Mounts: [],
  Size: 1.5,
};

const cases: [string, string, unknown, string][] = [
  // fields, nesting, maps, $ and .
  ['field', '{{.Id}}', inspect, '4f66ad9a0b2e'],
  ['nested', '{{.State.Status}} {{.State.Pid}} {{.State.Running}}', inspect, 'running 4242 true'],
  ['missing key', '{{.Nope}}|{{.Nope.Deeper}}', inspect, '<no value>|<no value>'],
  ['nil pointer prints <nil>', '{{.State.Health}}', inspect, '<nil>'],
  ['map with dotted keys via index', '{{index .Config.Labels "com.example.a"}}', inspect, 'one'],
  ['map %v sorts keys', '{{.Config.Labels}}', inspect, 'map[com.example.a:one com.example.b:two]'],
  ['slice %v', '{{.Config.Env}}', inspect, '[PATH=/usr/bin TERM=xterm]'],
  ['empty slice', '{{.Mounts}}', inspect, '[]'],
  ['float', '{{.Size}}', inspect, '1.5'],
  ['dollar', '{{$.Name}}{{with .State}}{{$.Name}}:{{.Status}}{{end}}', inspect, '/web/web:running'],
  ['dot of a string', '{{.}}', 'plain', 'plain'],
  ['map of maps', '{{.NetworkSettings.Networks}}', inspect, 'map[backend:map[IPAddress:10.0.0.5] bridge:map[IPAddress:172.17.0.2]]'],
  // literals
  ['literals', '{{"s"}} {{`raw\\n`}} {{1}} {{-2}} {{1.5}} {{0x1F}} {{true}} {{\'a\'}} {{1_000}}', {}, 's raw\\n 1 -2 1.5 31 true 97 1000'],
  ['string escapes', '{{"a\\tb\\u00e9\\x41"}}', {}, 'a\tbéA'],
  // variables
  ['declare and assign', '{{$x := .Name}}{{$x}} {{$x = "other"}}{{$x}}', inspect, '/web other'],
  ['variable fields', '{{$s := .State}}{{$s.Status}}', inspect, 'running'],
  ['declaration prints nothing', '{{$x := 5}}', {}, ''],
  // pipelines and parentheses
  ['pipeline into printf', '{{.Name | printf "%s!"}}', inspect, '/web!'],
  ['pipeline chain', '{{"abc" | upper | printf "<%s>"}}', {}, '<ABC>'],
  ['parenthesised call', '{{(index .Args 1)}} {{(index .NetworkSettings.Ports "80/tcp" 0).HostPort}}', inspect, 'echo hi 8080'],
  ['nested parens', '{{printf "%d-%d" (len .Args) (len (index .Config.Env 0))}}', inspect, '2-13'],
  // if / else if / else
  ['if true', '{{if .State.Running}}up{{end}}', inspect, 'up'],
  ['if else', '{{if .State.Paused}}paused{{else}}not paused{{end}}', inspect, 'not paused'],
  ['else if chain', '{{if eq .State.Status "exited"}}E{{else if eq .State.Status "running"}}R{{else}}?{{end}}', inspect, 'R'],
  ['truth of empty things', '{{if ""}}a{{end}}{{if 0}}b{{end}}{{if .Mounts}}c{{end}}{{if .Nope}}d{{end}}{{if .State.Health}}e{{end}}{{if .Config}}f{{end}}', inspect, 'f'],
  ['if with declaration', '{{if $p := .State.Pid}}pid {{$p}}{{end}}', inspect, 'pid 4242'],
  // range
  ['range slice', '{{range .Config.Env}}[{{.}}]{{end}}', inspect, '[PATH=/usr/bin][TERM=xterm]'],
  ['range index and value', '{{range $i, $e := .Args}}{{$i}}:{{$e}} {{end}}', inspect, '0:-c 1:echo hi '],
  ['range one variable is the element', '{{range $e := .Args}}{{$e}};{{end}}', inspect, '-c;echo hi;'],
  ['range map in key order', '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}', inspect, 'com.example.a=one,com.example.b=two,'],
  ['range map of structs', '{{range $n, $c := .NetworkSettings.Networks}}{{$n}} {{$c.IPAddress}};{{end}}', inspect, 'backend 10.0.0.5;bridge 172.17.0.2;'],
  ['range dot over map values', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', inspect, '10.0.0.5 172.17.0.2 '],
  ['range else on empty', '{{range .Mounts}}m{{else}}no mounts{{end}}', inspect, 'no mounts'],
  ['range else on nil', '{{range .State.Health}}x{{else}}none{{end}}', inspect, 'none'],
  ['range int', '{{range 3}}{{.}}{{end}}', {}, '012'],
  ['range break/continue', '{{range $i, $e := .}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$e}}{{end}}', ['a', 'b', 'c', 'd'], 'ac'],
  ['range variable scope ends', '{{$x := "out"}}{{range .}}{{$x := .}}{{end}}{{$x}}', ['in'], 'out'],
  ['range assigns to outer variable', '{{$last := ""}}{{range .}}{{$last = .}}{{end}}{{$last}}', ['a', 'b'], 'b'],
  ['comma join idiom', '{{range $i, $v := .}}{{if $i}}, {{end}}{{$v}}{{end}}', ['x', 'y', 'z'], 'x, y, z'],
  // with
  ['with', '{{with .State}}{{.Status}}/{{.Pid}}{{end}}', inspect, 'running/4242'],
  ['with else', '{{with .State.Health}}{{.Status}}{{else}}no healthcheck{{end}}', inspect, 'no healthcheck'],
  ['else with', '{{with .Nope}}a{{else with .Name}}{{.}}{{end}}', inspect, '/web'],
  // comments and trim markers
  ['comment', 'a{{/* a comment */}}b', {}, 'ab'],
  ['trimmed comment', 'a  {{- /* c */ -}}  b', {}, 'ab'],
  ['trim markers', '{{range .}}\n  {{- . -}}\n{{end}}', ['x', 'y'], 'xy'],
  ['minus number is not a trim marker', '{{-3}}', {}, '-3'],
  ['newlines inside actions', '{{printf "%s-%s"\n  "a"\n  "b"}}', {}, 'a-b'],
  // Go built-ins
  ['and or short-circuit', '{{and 1 0 2}} {{and 1 2}} {{or 0 "" "z"}} {{or 0 ""}}|', {}, '0 2 z |'],
  ['and skips a failing arm', '{{if and .State.Health .State.Health.Status}}x{{else}}y{{end}}', inspect, 'y'],
  ['not', '{{not 0}} {{not "x"}}', {}, 'true false'],
  ['len', '{{len .Args}} {{len .Config.Labels}} {{len "héllo"}}', inspect, '2 2 6'],
  ['index', '{{index .Args 0}} {{index .NetworkSettings.Ports "80/tcp" 0 "HostPort"}} {{index "abc" 1}}', inspect, '-c 8080 98'],
  ['index missing map key', '{{index .Config.Labels "nope"}}', inspect, '<no value>'],
  ['slice', '{{slice .Args 1}} {{slice "abcdef" 1 3}} {{slice .Args 0 1}}', inspect, '[echo hi] bc [-c]'],
  ['print adds spaces between non-strings', '{{print 1 2 "a" 3 "b" "c"}}', {}, '1 2a3bc'],
  ['println', '{{println "a" 1 true}}', {}, 'a 1 true\n'],
  ['printf verbs', '{{printf "%s|%d|%v|%q|%x|%X|%o|%b|%c|%t|%%" "s" 42 .Args "q" 255 255 8 5 65 true}}', inspect, 's|42|[-c echo hi]|"q"|ff|FF|10|101|A|true|%'],
  ['printf widths', '{{printf "[%5s][%-5s][%05d][%5.2f][%.3s][%+d][% d]" "ab" "ab" 42 3.14159 "abcdef" 5 5}}', {}, '[   ab][ab   ][00042][ 3.14][abc][+5][ 5]'],
  ['printf errors', '{{printf "%d %s" "x"}}|{{printf "%s" 1 2}}|{{printf "%z" 1}}', {}, '%!d(string=x) %!s(MISSING)|%!s(int=1)%!(EXTRA int=2)|%!z(int=1)'],
  ['printf %v of a missing value', '{{printf "%v" .Nope}}', {}, '<nil>'],
  ['printf %T', '{{printf "%T %T %T %T %T" 1 "s" 1.5 .Args .Config}}', inspect, 'int string float64 []string map[string]interface {}'],
  ['printf %q of slice', '{{printf "%q" .Args}}', inspect, '["-c" "echo hi"]'],
  ['printf star width', '{{printf "[%*d]" 4 7}}', {}, '[   7]'],
  ['eq ne lt le gt ge', '{{eq 1 1}} {{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', {}, 'true true true true true true false'],
  ['eq with a missing value', '{{eq .Nope "x"}}', {}, 'false'],
  ['html', '{{html "<a href=\'x\'>&\\"</a>"}}', {}, '&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;'],
  ['js', '{{js "it\'s \\"<b>\\" a=b\\n"}}', {}, "it\\'s \\\"\\u003Cb\\u003E\\\" a\\u003Db\\u000A"],
  ['urlquery', '{{urlquery "a b&c=d/é"}}', {}, 'a+b%26c%3Dd%2F%C3%A9'],
  ['html of a missing value', '{{html .Nope}}', {}, '&lt;no value&gt;'],
  // functions in objects are methods (called on access), so `call` reaches a function value by index
  ['call', '{{call (index . "F") 2 3}}', { F: (a: number, b: number) => a * b }, '6'],
  ['method with arguments', '{{.Label "com.example"}}', { Label(k: string) { return `label:${k}`; } }, 'label:com.example'],
  ['method without arguments', '{{.Status}}', { Status: () => 'Up 3 minutes' }, 'Up 3 minutes'],
  // Docker's functions
  ['json object keeps field order', '{{json .State}}', inspect, '{"Status":"running","Running":true,"Paused":false,"Pid":4242,"ExitCode":0,"Health":null}'],
  ['json does not escape HTML', '{{json "<a&b>"}}', {}, '"<a&b>"'],
  ['json of a missing value', '{{json .Nope}}', {}, 'null'],
  ['json of a slice', '{{json .Args}}', inspect, '["-c","echo hi"]'],
  ['join', '{{join .Args ", "}}', inspect, '-c, echo hi'],
  ['split', '{{split "a:b:c" ":"}} {{index (split "busybox:latest" ":") 1}} {{len (split "" ",")}}', {}, '[a b c] latest 1'],
  ['split by nothing', '{{split "añb" ""}}', {}, '[a ñ b]'],
  ['title lower upper', '{{title "hello wORLD-foo_bar"}} {{lower "ABC"}} {{upper "abc"}}', {}, 'Hello WORLD-Foo_bar abc ABC'],
  ['pad', '[{{pad "x" 2 1}}][{{pad "" 2 1}}]', {}, '[  x ][]'],
  ['truncate', '{{truncate "abcdef" 3}} {{truncate "ab" 3}} {{truncate "abc" 3}}', {}, 'abc ab abc'],
  ['truncate keeps whole characters', '{{truncate "日本語" 4}}', {}, '日'],
  ['define and template', '{{define "T"}}<{{.}}>{{end}}{{template "T" .Name}}{{template "T" "x"}}', inspect, '</web><x>'],
  ['block', '{{block "B" .Name}}[{{.}}]{{end}}', inspect, '[/web]'],
  // Docker documentation examples (docs.docker.com/config/formatting)
  ['docs: join', '{{join .Args " , "}}', inspect, '-c , echo hi'],
  ['docs: networks', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', inspect, '10.0.0.5172.17.0.2'],
  ['docs: port bindings', '{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}', inspect, '80/tcp -> 8080'],
  ['docs: json | jq', '{{json .Config.Labels}}', inspect, '{"com.example.b":"two","com.example.a":"one"}'],
];

describe('renderTemplate: Go text/template semantics', () => {
  it.each(cases)('%s', (_name, template, data, expected) => {
    expect(renderTemplate(template, data)).toBe(expected);
  });
});

const errors: [string, unknown, string][] = [
  // parse errors: line only, as Go's
  ['{{.Foo', {}, 'template: :1: unclosed action'],
  ['{{foo}}', {}, 'template: :1: function "foo" not defined'],
  ['{{if .A}}x', {}, 'template: :1: unexpected EOF'],
  ['{{end}}', {}, 'template: :1: unexpected {{end}}'],
  ['{{else}}', {}, 'template: :1: unexpected {{else}}'],
  ['{{}}', {}, 'template: :1: missing value for command'],
  ['{{$x}}', {}, 'template: :1: undefined variable "$x"'],
  ['{{range}}{{end}}', {}, 'template: :1: missing value for range'],
  ['{{"abc}}', {}, 'template: :1: unterminated quoted string'],
  ['{{/* x', {}, 'template: :1: unclosed comment'],
  ['{{.A | "x"}}', {}, 'template: :1: non executable command in pipeline stage 2'],
  ['{{break}}', {}, 'template: :1: {{break}} outside {{range}}'],
  ['{{.A #}}', {}, 'template: :1: unexpected "#" in operand'],
  ['line 1\nline 2 {{.A', {}, 'template: :2: unclosed action'],
  ['{{(.A}}', {}, 'template: :1: unclosed left paren'],
  ['{{.A)}}', {}, 'template: :1: unexpected right paren'],
  ['{{"x".A}}', {}, 'template: :1: unexpected . after term "\\"x\\""'],
  // execution errors: line:column (bytes), the node, the message
  ['{{.Id.Bar}}', { Id: 'x' }, 'template: :1:2: executing "" at <.Id.Bar>: can\'t evaluate field Bar in type string'],
  ['{{.State.Health.Status}}', inspect, 'template: :1:2: executing "" at <.State.Health.Status>: nil pointer evaluating interface {}.Status'],
  ['{{index .Args 5}}', inspect, 'template: :1:2: executing "" at <index .Args 5>: error calling index: index out of range: 5'],
  ['{{join .Args}}', inspect, 'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 1'],
  ['{{pad .Name "x" 1}}', inspect, 'template: :1:12: executing "" at <"x">: expected integer; found "x"'],
  ['{{upper .State.Pid}}', inspect, 'template: :1:8: executing "" at <.State.Pid>: wrong type for value; expected string; got int'],
  ['{{join .Config.Labels ","}}', inspect, 'template: :1:7: executing "" at <.Config.Labels>: wrong type for value; expected []string; got map[string]interface {}'],
  ['{{.Name 1}}', inspect, 'template: :1:2: executing "" at <.Name>: Name is not a method but has arguments'],
  ['{{1 2}}', {}, 'template: :1:2: executing "" at <1>: can\'t give argument to non-function 1'],
  ['{{eq 1 "a"}}', {}, 'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison'],
  ['{{lt true false}}', {}, 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison'],
  ['{{range .Name}}{{end}}', inspect, 'template: :1:8: executing "" at <.Name>: range can\'t iterate over /web'],
  ['{{template "nope"}}', {}, 'template: :1:2: executing "" at <{{template "nope"}}>: template "nope" not defined'],
  ['ab\n  {{.Id.X}}', { Id: 'x' }, 'template: :2:4: executing "" at <.Id.X>: can\'t evaluate field X in type string'],
  ['é{{.Id.X}}', { Id: 'x' }, 'template: :1:4: executing "" at <.Id.X>: can\'t evaluate field X in type string'],
  ['{{printf "%s" .Very.Long.Field.Chain.Here.X}}', { Very: 'x' }, 'template: :1:14: executing "" at <.Very.Long.Field.Cha...>: can\'t evaluate field Long in type string'],
];

describe('renderTemplate: errors as Go words them', () => {
  it.each(errors)('%j', (template, data, message) => {
    expect(() => renderTemplate(template, data)).toThrow(TemplateError);
    expect(() => renderTemplate(template, data)).toThrow(message);
    try {
      renderTemplate(template, data);
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
  });

  it('reports parse and exec phases', () => {
    expect(() => new Template('{{')).toThrow(expect.objectContaining({ phase: 'parse' }));
    expect(() => renderTemplate('{{.A.B}}', { A: 1 })).toThrow(expect.objectContaining({ phase: 'exec' }));
  });

  it('missingKey error and struct modes', () => {
    expect(() => renderTemplate('{{.Nope}}', {}, { missingKey: 'error' })).toThrow('map has no entry for key "Nope"');
    expect(() => renderTemplate('{{.Nope}}', {}, { missingKey: 'struct', typeName: '*formatter.ContainerContext' })).toThrow(
      'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
    );
  });

  it('a method that throws is an error calling it', () => {
    expect(() => renderTemplate('{{.M}}', { M: () => { throw new Error('boom'); } })).toThrow('at <.M>: error calling M: boom');
  });

  it('callers add functions', () => {
    expect(renderTemplate('{{double 21}}', {}, { funcs: { double: (n: number) => n * 2 } })).toBe('42');
  });
});
