import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const src = (p: string) => pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../../src', p)).href;

/**
 * Arguments for `node` that run one pull or push in its own process, for
 * tests that kill it and benchmarks that time it. (An inline script, so the
 * test runner, which runs every file under dist/test, never runs it bare.)
 */
export function distChildArgs(root: string, op: 'pull' | 'push', reference: string): string[] {
  const script = `
    import { DistributionService } from ${JSON.stringify(src('engine/distribution.js'))};
    import { Engine } from ${JSON.stringify(src('engine/engine.js'))};
    const [root, op, reference] = process.argv.slice(1);
    const engine = await Engine.open({ root });
    const dist = new DistributionService(engine, { config: { registries: {}, certsDirs: [] } });
    try {
      if (op === 'push') await dist.push(reference);
      else await dist.pull(reference);
    } finally {
      dist.close();
      await engine.close();
    }`;
  return ['--input-type=module', '-e', script, root, op, reference];
}
