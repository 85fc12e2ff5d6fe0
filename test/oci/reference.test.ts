import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/digest/digest.js';
import { isStrataError } from '../../src/errors/errors.js';
import {
  familiarName,
  familiarString,
  fullName,
  isIdPrefix,
  isValidTag,
  parseDockerRef,
  parseNormalizedNamed,
  parseReference,
  referenceString,
  withDefaultTag,
  withDigest,
  withTag,
} from '../../src/oci/reference.js';

const SHA: Digest = `sha256:${'f'.repeat(64)}`;

function rejects(f: () => unknown, message: string | RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isStrataError(e, 'InvalidArgument'), `expected a StrataError, got ${String(e)}`);
    assert.equal(e.code, 'STRATA_ERR_INVALID_REFERENCE');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('parseReference (grammar, no normalisation)', () => {
  const valid: Array<[string, { domain?: string; name: string; tag?: string; digest?: string }]> = [
    ['test_com', { name: 'test_com' }],
    ['test.com:tag', { name: 'test.com', tag: 'tag' }],
    ['test.com:5000', { name: 'test.com', tag: '5000' }],
    ['test.com/repo:tag', { domain: 'test.com', name: 'test.com/repo', tag: 'tag' }],
    ['test:5000/repo', { domain: 'test:5000', name: 'test:5000/repo' }],
    ['test:5000/repo:tag', { domain: 'test:5000', name: 'test:5000/repo', tag: 'tag' }],
    [`test:5000/repo@${SHA}`, { domain: 'test:5000', name: 'test:5000/repo', digest: SHA }],
    [`test:5000/repo:tag@${SHA}`, { domain: 'test:5000', name: 'test:5000/repo', tag: 'tag', digest: SHA }],
    ['lowercase:Uppercase', { name: 'lowercase', tag: 'Uppercase' }],
    [`${'a/'.repeat(127)}a:tag-puts-this-over-max`, { domain: 'a', name: `${'a/'.repeat(127)}a`, tag: 'tag-puts-this-over-max' }],
    ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', { domain: 'sub-dom1.foo.com', name: 'sub-dom1.foo.com/bar/baz/quux', tag: 'some-long-tag' }],
    ['b.gcr.io/test.example.com/my-app:test.example.com', { domain: 'b.gcr.io', name: 'b.gcr.io/test.example.com/my-app', tag: 'test.example.com' }],
    ['xn--n3h.com/myimage:xn--n3h.com', { domain: 'xn--n3h.com', name: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' }],
    ['foo_bar.com:8080', { name: 'foo_bar.com', tag: '8080' }],
    ['foo/foo_bar.com:8080', { domain: 'foo', name: 'foo/foo_bar.com', tag: '8080' }],
    ['192.168.1.1', { name: '192.168.1.1' }],
    ['192.168.1.1:5000', { name: '192.168.1.1', tag: '5000' }],
    ['192.168.1.1:5000/repo:5050', { domain: '192.168.1.1:5000', name: '192.168.1.1:5000/repo', tag: '5050' }],
    ['[2001:db8::1]/repo', { domain: '[2001:db8::1]', name: '[2001:db8::1]/repo' }],
    ['[2001:db8:1:2:3:4:5:6]/repo:tag', { domain: '[2001:db8:1:2:3:4:5:6]', name: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' }],
    [`[2001:db8::1]:5000/repo:tag@${SHA}`, { domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo', tag: 'tag', digest: SHA }],
    ['[::1]:5000/repo', { domain: '[::1]:5000', name: '[::1]:5000/repo' }],
    [`example.com/${'a'.repeat(255)}:tag`, { domain: 'example.com', name: `example.com/${'a'.repeat(255)}`, tag: 'tag' }],
    ['a__b/c-----d/e.f_g', { name: 'a__b/c-----d/e.f_g' }],
  ];
  for (const [input, want] of valid) {
    it(`accepts ${input.slice(0, 70)}`, () => {
      const ref = parseReference(input);
      assert.equal(referenceString(ref), input);
      assert.equal(fullName(ref), want.name);
      assert.equal(ref.domain, want.domain ?? '');
      assert.equal(ref.tag, want.tag);
      assert.equal(ref.digest, want.digest);
    });
  }

  const invalid: Array<[string, string]> = [
    ['', 'repository name must have at least one component'],
    [':justtag', 'invalid reference format'],
    [`@${SHA}`, 'invalid reference format'],
    [`repo@sha256:${'f'.repeat(34)}`, 'invalid checksum digest length'],
    [`validname@invaliddigest:${'f'.repeat(64)}`, 'unsupported digest algorithm'],
    [`repo@sha256:${'F'.repeat(64)}`, 'invalid checksum digest format'],
    ['Uppercase:tag', 'repository name must be lowercase'],
    ['test:5000/Uppercase/lowercase:tag', 'repository name must be lowercase'],
    [`domain/${'a'.repeat(256)}:tag`, 'repository name must not be more than 255 characters'],
    ['aa/asdf$$^/aa', 'invalid reference format'],
    ['[2001:db8::1]', 'invalid reference format'],
    ['[2001:db8::1]:5000', 'invalid reference format'],
    ['[fe80::1%eth0]:5000/repo', 'invalid reference format'],
    ['a//b', 'invalid reference format'],
    ['a/', 'invalid reference format'],
    ['a:b:c', 'invalid reference format'],
    [`a:${'t'.repeat(129)}`, 'invalid reference format'],
    ['a:.tag', 'invalid reference format'],
    ['dock..er', 'invalid reference format'],
    ['dock_.er', 'invalid reference format'],
    ['____', 'invalid reference format'],
  ];
  for (const [input, message] of invalid) {
    it(`rejects ${JSON.stringify(input.slice(0, 60))}`, () => rejects(() => parseReference(input), message));
  }
});

describe('parseNormalizedNamed', () => {
  // [input, domain, path, familiar name]
  const cases: Array<[string, string, string, string]> = [
    ['ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['docker.io/ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['docker.io/library/ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['library/ubuntu', 'docker.io', 'library/ubuntu', 'ubuntu'],
    ['index.docker.io/library/ubuntu-12.04-base', 'docker.io', 'library/ubuntu-12.04-base', 'ubuntu-12.04-base'],
    ['index.docker.io/fooo/bar', 'docker.io', 'fooo/bar', 'fooo/bar'],
    ['fooo/bar', 'docker.io', 'fooo/bar', 'fooo/bar'],
    ['nonlibrary/ubuntu', 'docker.io', 'nonlibrary/ubuntu', 'nonlibrary/ubuntu'],
    ['other/library', 'docker.io', 'other/library', 'other/library'],
    ['library/foo/bar', 'docker.io', 'library/foo/bar', 'library/foo/bar'],
    ['store/foo/bar', 'docker.io', 'store/foo/bar', 'store/foo/bar'],
    ['localhost/fooo', 'localhost', 'fooo', 'localhost/fooo'],
    ['localhost/fooo/bar', 'localhost', 'fooo/bar', 'localhost/fooo/bar'],
    ['localhost:5000/fooo', 'localhost:5000', 'fooo', 'localhost:5000/fooo'],
    ['LOCALDOMAIN/fooo', 'LOCALDOMAIN', 'fooo', 'LOCALDOMAIN/fooo'],
    ['Foo/bar', 'Foo', 'bar', 'Foo/bar'],
    ['127.0.0.1:8000/private/moonbase', '127.0.0.1:8000', 'private/moonbase', '127.0.0.1:8000/private/moonbase'],
    ['example.com/privatebase', 'example.com', 'privatebase', 'example.com/privatebase'],
    ['example.com:8000/private/moonbase', 'example.com:8000', 'private/moonbase', 'example.com:8000/private/moonbase'],
    ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000', 'docker/docker', '[fc00::1]:5000/docker/docker'],
    ['192.168.0.1', 'docker.io', 'library/192.168.0.1', '192.168.0.1'],
    ['docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'docker.io', 'library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a'],
    ['dock__er/docker', 'docker.io', 'dock__er/docker', 'dock__er/docker'],
    ['docker---rules/docker', 'docker.io', 'docker---rules/docker', 'docker---rules/docker'],
    ['thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io', 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev'],
  ];
  for (const [input, domain, path, familiar] of cases) {
    it(`normalises ${input.slice(0, 70)}`, () => {
      const ref = parseNormalizedNamed(input);
      assert.deepEqual({ domain: ref.domain, path: ref.path }, { domain, path });
      assert.equal(familiarName(ref), familiar);
      assert.equal(fullName(ref), `${domain}/${path}`);
      // The familiar form parses back to the same name (except a 64-hex one, which reads as an ID).
      if (!/^[a-f0-9]{64}$/.test(familiar)) assert.deepEqual(parseNormalizedNamed(familiarName(ref)), ref);
    });
  }

  it('keeps tag and digest, and prints them in familiar form', () => {
    const short = `busybox:latest@${SHA}`;
    const ref = parseNormalizedNamed(short);
    assert.equal(referenceString(ref), `docker.io/library/${short}`);
    assert.equal(ref.tag, 'latest');
    assert.equal(ref.digest, SHA);
    assert.equal(familiarString(ref), short);
    assert.equal(familiarString(parseNormalizedNamed('quay.io/coreos/etcd:v3')), 'quay.io/coreos/etcd:v3');
  });

  it('does not add a default tag', () => {
    assert.equal(parseNormalizedNamed('redis').tag, undefined);
  });

  const invalid: Array<[string, string]> = [
    ['Foo', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
    ['docker.io/docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
    ['LOCALDOMAIN/Foo:tag', 'invalid reference format: repository name (Foo) must be lowercase'],
    ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), cannot specify 64-byte hexadecimal strings'],
    ['https://github.com/docker/docker', 'invalid reference format'],
    ['-docker', 'invalid reference format'],
    ['-docker/docker', 'invalid reference format'],
    ['docker-/docker', 'invalid reference format'],
    ['-docker.io/docker/docker', 'invalid reference format'],
    ['docker///docker', 'invalid reference format'],
    ['docker.io/docker///docker', 'invalid reference format'],
    ['[fc00::1]', 'invalid reference format'],
    ['fc00::1:5000/debian', 'invalid reference format'],
    ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid reference format'],
    ['_docker/_docker', 'invalid reference format'],
    ['dock-.er/docker', 'invalid reference format'],
    ['docker/', 'invalid reference format'],
    ['a b', 'invalid reference format'],
    ['', 'invalid reference format'],
    [`${'x'.repeat(256)}`, 'repository name must not be more than 255 characters'],
    [`ubuntu@sha384:${'a'.repeat(96)}`, 'unsupported digest algorithm'],
  ];
  for (const [input, message] of invalid) {
    it(`rejects ${JSON.stringify(input.slice(0, 60))}`, () => rejects(() => parseNormalizedNamed(input), message));
  }

  it('rejects huge input quickly (no regexp blow-up)', () => {
    const started = Date.now();
    for (const s of ['a'.repeat(200_000) + '!', 'a.'.repeat(100_000) + '!', 'a-'.repeat(100_000) + '/!', 'a/'.repeat(100_000) + ':']) {
      assert.throws(() => parseNormalizedNamed(s));
    }
    assert.ok(Date.now() - started < 2000);
  });
});

describe('default domain', () => {
  const opts = { defaultDomain: 'registry.example.com:5000' };

  it('puts names without a domain on the configured registry, without library/', () => {
    const ref = parseNormalizedNamed('ubuntu:22.04', opts);
    assert.deepEqual(ref, { domain: 'registry.example.com:5000', path: 'ubuntu', tag: '22.04' });
    assert.equal(familiarString(ref, opts), 'ubuntu:22.04');
    assert.equal(parseNormalizedNamed('team/app', opts).path, 'team/app');
  });

  it('keeps Docker Hub rules for explicit docker.io names, which are no longer familiar', () => {
    const ref = parseNormalizedNamed('docker.io/ubuntu', opts);
    assert.deepEqual(ref, { domain: 'docker.io', path: 'library/ubuntu' });
    assert.equal(familiarName(ref, opts), 'docker.io/library/ubuntu');
    assert.equal(familiarName(ref), 'ubuntu');
  });
});

describe('tags and digests', () => {
  it('parseDockerRef adds latest to a bare name and drops the tag next to a digest', () => {
    assert.equal(referenceString(parseDockerRef('busybox')), 'docker.io/library/busybox:latest');
    assert.equal(referenceString(parseDockerRef('busybox:1.36')), 'docker.io/library/busybox:1.36');
    assert.equal(referenceString(parseDockerRef(`busybox:latest@${SHA}`)), `docker.io/library/busybox@${SHA}`);
    assert.equal(referenceString(parseDockerRef(`busybox@${SHA}`)), `docker.io/library/busybox@${SHA}`);
  });

  it('withDefaultTag only tags name-only references', () => {
    const name = parseNormalizedNamed('redis');
    assert.equal(withDefaultTag(name).tag, 'latest');
    assert.equal(withDefaultTag({ ...name, tag: '7' }).tag, '7');
    assert.equal(withDefaultTag({ ...name, digest: SHA }).tag, undefined);
  });

  it('withTag and withDigest validate and keep the other part', () => {
    const ref = parseNormalizedNamed(`busybox@${SHA}`);
    assert.equal(referenceString(withTag(ref, 'v1.0_rc-1')), `docker.io/library/busybox:v1.0_rc-1@${SHA}`);
    rejects(() => withTag(ref, '-foo'), 'invalid tag format');
    rejects(() => withTag(ref, 't'.repeat(129)), 'invalid tag format');
    const tagged = parseNormalizedNamed('busybox:1');
    assert.equal(referenceString(withDigest(tagged, SHA)), `docker.io/library/busybox:1@${SHA}`);
    rejects(() => withDigest(tagged, 'foo'), 'invalid digest format');
  });

  it('isValidTag follows [\\w][\\w.-]{0,127}', () => {
    for (const t of ['latest', 'A', '_x', '1.0', 'a-b.c_d', 'x'.repeat(128)]) assert.ok(isValidTag(t), t);
    for (const t of ['', '.x', '-x', 'a/b', 'a:b', 'x'.repeat(129), 'é']) assert.ok(!isValidTag(t), t);
  });
});

describe('isIdPrefix', () => {
  it('accepts 12 to 64 lowercase hex characters, with or without sha256:', () => {
    for (const s of ['0123456789ab', 'f'.repeat(64), `sha256:${'a'.repeat(12)}`, SHA]) assert.ok(isIdPrefix(s), s);
    for (const s of ['0123456789a', 'f'.repeat(65), '0123456789AB', 'sha512:0123456789ab', 'sha256:', 'ubuntu', `sha256:${'g'.repeat(12)}`]) {
      assert.ok(!isIdPrefix(s), s);
    }
    assert.ok(isIdPrefix('abc', 1));
  });
});
