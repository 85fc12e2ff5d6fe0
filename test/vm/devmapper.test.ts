import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { DevmapperSnapshotter } from '../../src/snapshots/devmapper/devmapper.js';
import { runInVm, vmUnavailable } from './vm.js';

/**
 * The devicemapper suite needs dm-thin-pool, which this host's kernel may
 * lack: then it runs test/snapshots/devmapper.test.ts inside a VM on
 * Debian's stock kernel, bounded to fifteen minutes (software emulation
 * where KVM cannot boot a guest runs it in about ten).
 */
const TIMEOUT_MS = 15 * 60_000;
const repo = fileURLToPath(new URL('../../..', import.meta.url));

const hostHasDm = await DevmapperSnapshotter.checkSupported().then(() => true, () => false);
const noVm = hostHasDm ? 'this kernel has dm-thin-pool: test/snapshots/devmapper.test.ts runs the suite here' : await vmUnavailable();

it('devicemapper conformance in a VM with dm-thin-pool', { skip: noVm ?? false, timeout: TIMEOUT_MS + 60_000 }, async () => {
  const r = await runInVm({
    command: 'uname -r && node --test --test-reporter=tap dist/test/snapshots/devmapper.test.js',
    cwd: repo,
    modules: ['loop', 'ext4', 'dm_thin_pool'],
    timeoutMs: TIMEOUT_MS,
  });
  const tail = r.output.split('\n').slice(-80).join('\n');
  assert.ok(!r.timedOut, `the VM (${r.accel}) did not finish within ${TIMEOUT_MS / 60_000} minutes:\n${tail}`);
  assert.equal(r.exitCode, 0, `the suite failed in the VM (${r.accel}):\n${tail}`);
  assert.match(r.output, /^# fail 0/m, tail);
  assert.doesNotMatch(r.output, /^# pass 0/m, `the VM ran no test:\n${tail}`);
  assert.doesNotMatch(r.output, /devicemapper snapshotter conformance # SKIP/, `the suite skipped in the VM:\n${tail}`);
});
