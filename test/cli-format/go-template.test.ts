import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStrataError } from '../../src/errors/errors.js';
import { compileTemplate } from '../../src/cli/format/go-template.js';

class Row {
  readonly ID = 'sha256:0123456789abcdef';
  readonly labels: Record<string, string> = { 'com.example.a': 'x', tier: 'web' };
  Label(name: string): string {
    return this.labels[name] ?? '';
  }
  get Repository(): string {
    return 'ubuntu';
  }
  Fail(): string {
    throw new Error('boom');
  }
}

const data = {
  ID: 'sha256:0123456789abcdef0123',
  Name: 'web-1',
  Size: 1234,
  Ratio: 1.5,
  Labels: { b: '2', a: '1' },
  Empty: {},
  Names: ['x', 'y', 'z'],
  None: [],
  Nested: { Inner: { Value: 'deep' } },
  Nil: null,
  Yes: true,
  When: new Date('2024-01-02T03:04:05Z'),
  Mixed: { n: 1, s: 'a', l: [1, 'b'] },
  Row: new Row(),
};

const render = (src: string, d: unknown = data): string => compileTemplate(src)(d);

describe('go template: output', () => {
  const cases: Array<[string, string]> = [
    ['plain text', 'plain text'],
    ['{{.Name}}', 'web-1'],
    ['{{.Nested.Inner.Value}}', 'deep'],
    ['{{.Size}} {{.Ratio}} {{.Yes}}', '1234 1.5 true'],
    ['{{.Labels}}', 'map[a:1 b:2]'],
    ['{{.Names}}', '[x y z]'],
    ['{{.None}} {{.Empty}}', '[] map[]'],
    ['{{.Mixed}}', 'map[l:[1 b] n:1 s:a]'],
    ['{{.Missing}}', '<no value>'],
    ['{{.Missing.Deeper}}', '<no value>'],
    ['{{.Nil}}', '<no value>'],
    ['{{.When}}', '2024-01-02 03:04:05 +0000 UTC'],
    ['{{.Labels.a}}', '1'],
    ['{{index .Labels "b"}}', '2'],
    ['{{index .Labels "nope"}}', ''], // zero value of map[string]string
    ['{{index .Names 1}}', 'y'],
    ['{{index .Mixed "l" 1}}', 'b'],
    ['{{json .}}'.replace('.', '.Labels'), '{"a":"1","b":"2"}'],
    ['{{json .Names}} {{json .Nil}} {{json .When}} {{json "a<b&c"}}', '["x","y","z"] null "2024-01-02T03:04:05Z" "a<b&c"'],
    ['{{.Name | upper}} {{lower "ABC"}} {{title "hello wide-world foo_bar"}}', 'WEB-1 abc Hello Wide-World Foo_bar'],
    ['{{truncate .ID 12}}|{{truncate "abc" 5}}|{{truncate "abc" 3}}', 'sha256:01234|abc|abc'],
    ['{{split "a,b,,c" ","}} {{len (split "a,b" ",")}}', '[a b  c] 2'],
    ['{{join .Names ", "}}|{{join .Labels "+"}}|{{join .Nil ","}}', 'x, y, z|1+2|'],
    ['[{{pad .Name 2 1}}][{{pad "" 2 1}}]', '[  web-1 ][]'],
    ['{{len .Names}} {{len .Labels}} {{len "héllo"}}', '3 2 6'],
    ['{{println "a" 1 2}}', 'a 1 2\n'],
    ['{{print 1 2 "a" 3 "b"}}', '1 2a3b'],
    ['{{printf "%s=%d %v %q" .Name .Size .Names .Name}}', 'web-1=1234 [x y z] "web-1"'],
    ['{{printf "%-6s|%6s|%05d|%x|%X|%.2f|%t" "ab" "cd" 42 255 "hi" .Ratio .Yes}}', 'ab    |    cd|00042|ff|6869|1.50|true'],
    ['{{printf "%d %s" "x"}}', '%!d(string=x) %!s(MISSING)'],
    ['{{printf "%d" 1 2 "z"}}', '1%!(EXTRA int=2, string=z)'],
    ['{{printf "100%%"}}', '100%'],
    ['{{.Name | printf "<%s>" | upper}}', '<WEB-1>'],
    ['{{printf "%s-%s" (upper .Name) (lower "X")}}', 'WEB-1-x'],
    ['{{(index .Mixed "l")}}', '[1 b]'],
    ['{{if .Yes}}yes{{else}}no{{end}}', 'yes'],
    ['{{if .None}}a{{else if .Empty}}b{{else if .Name}}c{{else}}d{{end}}', 'c'],
    ['{{if .Missing}}a{{end}}{{if .Nil}}b{{end}}{{if 0}}c{{end}}{{if ""}}d{{end}}{{if .Row}}e{{end}}', 'e'],
    ['{{if and .Yes .Name}}{{and .Yes .Name}}{{end}} {{or .Missing "fallback"}} {{and .None 1}} {{not .Yes}}', 'web-1 fallback [] false'],
    ['{{if eq .Name "web-1"}}eq{{end}} {{eq .Size 1 2 1234}} {{ne .Size 1}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', 'eq true true true true true false'],
    ['{{eq .Missing "x"}} {{eq .Nil .Missing}}', 'false true'],
    ['{{range .Names}}<{{.}}>{{end}}', '<x><y><z>'],
    ['{{range $i, $n := .Names}}{{$i}}={{$n}} {{end}}', '0=x 1=y 2=z '],
    ['{{range $v := .Names}}{{$v}}{{end}}', 'xyz'],
    ['{{range $k, $v := .Labels}}{{$k}}:{{$v}};{{end}}', 'a:1;b:2;'],
    ['{{range .None}}x{{else}}empty{{end}} {{range .Missing}}x{{else}}none{{end}}', 'empty none'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{range .Names}}{{if eq . "y"}}{{continue}}{{end}}{{.}}{{end}}|{{range .Names}}{{if eq . "y"}}{{break}}{{end}}{{.}}{{end}}', 'xz|x'],
    ['{{range .Names}}{{$.Name}}.{{.}} {{end}}', 'web-1.x web-1.y web-1.z '],
    ['{{with .Nested.Inner}}{{.Value}}{{end}} {{with .Missing}}x{{else}}no{{end}}', 'deep no'],
    ['{{$x := .Name}}{{$x}} {{$x := 1}}{{if .Yes}}{{$x = 2}}{{end}}{{$x}}', 'web-1 2'],
    ['{{$n := .Nested}}{{$n.Inner.Value}}', 'deep'],
    ['{{$}}'.replace('$', '$.Name'), 'web-1'],
    ['a  {{- .Size -}}  b', 'a1234b'],
    ['a {{-3}} b', 'a -3 b'],
    ['x\n  {{- /* a comment */ -}}\n  y{{/* another */}}', 'xy'],
    ['{{"quoted\\t\\u00e9"}}|{{`raw\\t`}}|{{true}}|{{1.5}}|{{0x1F}}|{{\'a\'}}', 'quoted\té|raw\\t|true|1.5|31|97'],
    ['{{.Row.ID}} {{.Row.Repository}} {{.Row.Label "tier"}} {{.Row.Label "none"}}', 'sha256:0123456789abcdef ubuntu web '],
    ['line1\n{{.Name}}\n', 'line1\nweb-1\n'],
  ];
  for (const [src, want] of cases) it(JSON.stringify(src), () => assert.equal(render(src), want));

  it('compiles once and renders many rows', () => {
    const t = compileTemplate('{{.A}}-{{.B}}');
    assert.deepEqual(
      [{ A: 1, B: 2 }, { A: 'x' }].map((r) => t(r)),
      ['1-2', 'x-<no value>'],
    );
  });
});

function fails(src: string, message: string, d: unknown = data): void {
  assert.throws(
    () => render(src, d),
    (e: unknown) => {
      assert.ok(isStrataError(e, 'InvalidArgument'), String(e));
      assert.equal(e.message, message);
      return true;
    },
  );
}

describe('go template: errors read like Docker', () => {
  const P = 'template parsing error: template: ';
  const cases: Array<[string, string]> = [
    ['{{.Name', `${P}:1: unclosed action`],
    ['{{.Name}', `${P}:1: unexpected "}" in operand`],
    ['{{foo .Name}}', `${P}:1: function "foo" not defined`],
    ['{{if .Yes}}x', `${P}:1: unexpected EOF`],
    ['a\n{{end}}', `${P}:2: unexpected {{end}}`],
    ['{{else}}', `${P}:1: unexpected {{else}}`],
    ['{{$x}}', `${P}:1: undefined variable "$x"`],
    ['{{}}', `${P}:1: missing value for command`],
    ['{{if}}{{end}}', `${P}:1: missing value for if`],
    ['{{"abc}}', `${P}:1: unterminated quoted string`],
    ['{{/* x }}', `${P}:1: unclosed comment`],
    ['{{break}}', `${P}:1: {{break}} outside {{range}}`],
    ['{{.Name | "x"}}', `${P}:1: non executable command in pipeline stage 2`],
    ['{{3x}}', `${P}:1: bad number syntax: "3x"`],
    ['{{"a".B}}', `${P}:1: unexpected . after term "\\"a\\""`],
    ['{{.Name 1}}', `${P}:1:2: executing "" at <.Name>: Name is not a method but has arguments`],
    ['{{.Nil.Field}}', `${P}:1:2: executing "" at <.Nil.Field>: nil pointer evaluating interface {}.Field`],
    ['{{.Size.Field}}', `${P}:1:2: executing "" at <.Size.Field>: can't evaluate field Field in type int`],
    ['{{.Row.Nope}}', `${P}:1:2: executing "" at <.Row.Nope>: can't evaluate field Nope in type Row`],
    ['{{.Row.Fail}}', `${P}:1:2: executing "" at <.Row.Fail>: error calling Fail: boom`],
    ['x {{truncate .ID}}', `${P}:1:4: executing "" at <truncate>: wrong number of args for truncate: want 2 got 1`],
    ['{{truncate .Size 3}}', `${P}:1:11: executing "" at <.Size>: wrong type for value; expected string; got int`],
    ['{{truncate .Name "3"}}', `${P}:1:17: executing "" at <"3">: expected integer; found "3"`],
    ['{{upper .Missing}}', `${P}:1:8: executing "" at <.Missing>: invalid value; expected string`],
    ['{{index .Names 5}}', `${P}:1:2: executing "" at <index>: error calling index: index out of range: 5`],
    ['{{join .Name ","}}', `${P}:1:2: executing "" at <join>: error calling join: expected slice, got string`],
    ['{{eq .Name 1}}', `${P}:1:2: executing "" at <eq>: error calling eq: incompatible types for comparison`],
    ['{{range .Name}}{{end}}', `${P}:1:8: executing "" at <.Name>: range can't iterate over web-1`],
    ['{{nil}}', `${P}:1:2: executing "" at <nil>: nil is not a command`],
    ['{{"x" 1}}', `${P}:1:2: executing "" at <"x">: can't give argument to non-function "x"`],
    ['{{.Nested.Inner.Value.Too.Long.Chain}}', `${P}:1:2: executing "" at <.Nested.Inner.Value....>: can't evaluate field Too in type string`],
  ];
  for (const [src, message] of cases) it(JSON.stringify(src), () => fails(src, message));

  it('reports syntax errors at compile time, not per row', () => {
    assert.throws(() => compileTemplate('{{if}}'), /missing value for if/);
  });
});
