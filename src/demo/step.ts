/**
 * A token family's part of `keybridge demo`: `src/plugins/X/demo.ts` exports one as `demo`, and
 * the registry below finds it (src/fs/registry.ts; in the bundles scripts/build.mjs defines
 * `__KEYBRIDGE_DEMO_STEPS__`). The families' steps run before the ones that need no token.
 */
import { familyNames } from '../fs/registry.ts';
import type { DemoReport } from './report.ts';

export interface DemoStep {
  /** Where the step runs among the families' steps: lower first (equal ones by family name). */
  readonly order: number;
  /** Its lines of `keybridge demo --help` ("  - plug a virtual …\n"). */
  readonly help: string;
  /** Runs the step in the demo's working directory `dir`; fails with a `DemoStepError`. */
  run(dir: string, report: DemoReport): Promise<void>;
}

declare const __KEYBRIDGE_DEMO_STEPS__: string[] | undefined;

/** Every family's demo step, in the order they run. */
export async function familyDemoSteps(): Promise<DemoStep[]> {
  const families = familyNames(typeof __KEYBRIDGE_DEMO_STEPS__ === 'undefined' ? undefined : __KEYBRIDGE_DEMO_STEPS__, new URL('../plugins/', import.meta.url), 'demo.ts');
  const steps = await Promise.all(families.map(async (n) => ((await import(`../plugins/${n}/demo.ts`)) as { demo: DemoStep }).demo));
  return steps.sort((a, b) => a.order - b.order); // stable: equal orders stay by family name
}
