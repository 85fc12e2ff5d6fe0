import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStrataError } from '../../src/errors/errors.js';
import { defaultHeader, formatRows } from '../../src/cli/format/go-template.js';
import { displayWidth, tabwrite } from '../../src/cli/format/tabwriter.js';

describe('tabwrite', () => {
  it('aligns columns with Docker settings (minwidth 10, padding 3)', () => {
    assert.equal(tabwrite('a\tbb\tc\nlonger-cell\tx\ty\n'), 'a             bb        c\nlonger-cell   x         y\n');
  });

  it('only aligns runs of adjacent lines that share a column; last cells are never padded', () => {
    const opts = { minwidth: 0, padding: 1, padchar: '.' };
    assert.equal(tabwrite('aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n', opts), 'aaaa.bbb.d\naa...b...dd\na....\naa...cccc.eee\n');
    assert.equal(tabwrite('a\tb\nno tabs on this line\nccc\td', opts), 'a.b\nno tabs on this line\nccc.d');
  });

  it('pads empty cells and counts display width, not UTF-16 units', () => {
    assert.equal(tabwrite('名前\tx\nab\ty'), '名前      x\nab        y');
    assert.equal(tabwrite('\tx\nabc\ty'), '          x\nabc       y');
    assert.equal(displayWidth('e\u0301😀a'), 4);
  });
});

const IMAGES = [
  { Repository: 'image', Tag: 'tag1', Digest: `sha256:${'cbbf2f9a99b47fc4'.repeat(4)}`, ID: 'imageID1', CreatedSince: '24 hours ago', Size: '0B' },
  { Repository: 'image', Tag: 'tag2', Digest: '<none>', ID: 'imageID2', CreatedSince: '', Size: '0B' },
  { Repository: '<none>', Tag: '<none>', Digest: '<none>', ID: 'imageID3', CreatedSince: '24 hours ago', Size: '0B' },
];
const IMAGE_HEADERS = { Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE' };
const DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

describe('formatRows', () => {
  it('renders the default table exactly like docker images --digests', () => {
    const want = [
      'REPOSITORY   TAG       DIGEST                                                                    IMAGE ID   CREATED        SIZE',
      `image        tag1      sha256:${'cbbf2f9a99b47fc4'.repeat(4)}   imageID1   24 hours ago   0B`,
      'image        tag2      <none>                                                                    imageID2   N/A            0B',
      '<none>       <none>    <none>                                                                    imageID3   24 hours ago   0B',
      '',
    ].join('\n');
    assert.equal(formatRows(undefined, IMAGES, DEFAULT_TABLE, IMAGE_HEADERS), want);
    assert.equal(formatRows('table', IMAGES, DEFAULT_TABLE, IMAGE_HEADERS), want);
    assert.equal(formatRows('', IMAGES, DEFAULT_TABLE, IMAGE_HEADERS), want);
  });

  it('turns literal \\t in a user table into columns and prints the header even without rows', () => {
    assert.equal(formatRows('table {{.Repository}}\\t{{.Tag}}', IMAGES.slice(0, 1), DEFAULT_TABLE, IMAGE_HEADERS), 'REPOSITORY   TAG\nimage        tag1\n');
    assert.equal(formatRows('table {{.Repository}}', [], DEFAULT_TABLE, IMAGE_HEADERS), 'REPOSITORY\n');
  });

  it('leaves header titles alone in functions, keeps literal text, derives missing titles', () => {
    const format = 'table {{truncate .ID 3 | lower}}:{{upper .Repository}}\t{{json .Size}}\t{{.CreatedAt}}';
    const want = `${'IMAGE ID:REPOSITORY'.padEnd(22)}${'SIZE'.padEnd(10)}CREATED AT\n${'ima:IMAGE'.padEnd(22)}${'"0B"'.padEnd(10)}<no value>\n`;
    assert.equal(formatRows(format, IMAGES.slice(0, 1), '', IMAGE_HEADERS), want);
  });

  it('keeps the header text printed before a header error, as Docker does', () => {
    // In the header row .Labels is the string "LABELS", which index cannot take a key of.
    const rows = [{ Name: 'a', Labels: { x: '1' } }];
    assert.equal(formatRows('table {{.Name}}\t{{index .Labels "x"}}', rows, ''), 'NAME      \na         1\n');
  });

  it('prints raw templates without a header, one line per row', () => {
    assert.equal(formatRows('{{.Repository}}:{{.Tag}}', IMAGES, DEFAULT_TABLE), 'image:tag1\nimage:tag2\n<none>:<none>\n');
    assert.equal(formatRows('  {{.ID}}\\n  ', IMAGES.slice(0, 1), DEFAULT_TABLE), 'imageID1\n\n');
    assert.equal(formatRows('{{.ID}}', [], DEFAULT_TABLE), '');
  });

  it('prints one JSON object per line for --format json', () => {
    assert.equal(formatRows('json', [{ Tag: 'a', ID: 'x' }, { Tag: 'b', ID: 'y' }], DEFAULT_TABLE), '{"ID":"x","Tag":"a"}\n{"ID":"y","Tag":"b"}\n');
  });

  it('reports template errors with Docker wording', () => {
    assert.throws(
      () => formatRows('table {{.Repository', IMAGES, DEFAULT_TABLE),
      (e: unknown) => isStrataError(e, 'InvalidArgument') && e.message === 'template parsing error: template: :1: unclosed action',
    );
  });

  it('derives headers from field names', () => {
    assert.equal(defaultHeader('CreatedAt'), 'CREATED AT');
    assert.equal(defaultHeader('ImageID'), 'IMAGE ID');
    assert.equal(defaultHeader('ID'), 'ID');
    assert.equal(defaultHeader('RepoTags'), 'REPO TAGS');
  });
});
