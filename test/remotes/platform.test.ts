import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Descriptor } from '../../src/oci/image.js';
import { formatPlatform, hostPlatform, parsePlatform, pickPlatform } from '../../src/remotes/platform.js';

const d = (architecture: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${architecture.padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a')}`,
  size: 1,
  platform: { os, architecture, variant },
});

describe('platforms', () => {
  it('parses --platform values as Docker does', () => {
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64', variant: undefined });
    assert.equal(formatPlatform(parsePlatform('linux')), formatPlatform(hostPlatform()));
    assert.throws(() => parsePlatform('linux/amd64/v1/x'), /invalid platform/);
  });

  it('picks the entry of an index for the platform, never an attestation', () => {
    const list = [d('unknown', undefined, 'unknown'), d('arm', 'v7'), d('arm64', 'v8'), d('amd64')];
    assert.equal(pickPlatform(list, { os: 'linux', architecture: 'amd64' }), list[3]);
    assert.equal(pickPlatform(list, { os: 'linux', architecture: 'arm64' }), list[2]);
    assert.equal(pickPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v6' }), undefined);
    assert.equal(pickPlatform([d('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.platform?.architecture, 'arm64');
  });
});
