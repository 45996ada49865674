import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    // Generous: the suite must pass on a loaded machine (scripts/stress-test.sh runs it beside
    // CPU burners); a hang still fails, only later.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end files share one pcscd per machine; they serialise through the rig lock
    // (src/sim/rig), so files may still run side by side.
  },
});
