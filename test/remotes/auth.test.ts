import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges, repositoryScope } from '../../src/remotes/auth.js';

describe('WWW-Authenticate challenges', () => {
  it('parses a Bearer challenge with a quoted scope holding commas and spaces', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:samalba/my-app:pull,push repository:other:pull"');
    assert.equal(c.scheme, 'bearer');
    assert.deepEqual(c.params, {
      realm: 'https://auth.example.com/token',
      service: 'registry.example.com',
      scope: 'repository:samalba/my-app:pull,push repository:other:pull',
    });
  });

  it('parses Basic, unquoted values, escaped quotes, and several headers', () => {
    const cs = parseChallenges(['Basic realm="a \\"quoted\\" realm"', 'Bearer realm=https://x/token, service=x']);
    assert.deepEqual(cs, [
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'https://x/token', service: 'x' } },
    ]);
  });

  it('ignores schemes it does not speak', () => {
    assert.deepEqual(parseChallenges('Negotiate abc'), []);
    assert.deepEqual(parseChallenges(undefined), []);
  });

  it('writes scopes as the token spec grammar does', () => {
    assert.equal(repositoryScope('library/busybox', ['pull', 'push']), 'repository:library/busybox:pull,push');
  });
});
