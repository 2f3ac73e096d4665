import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Vitest's default is one worker fewer than the cores: on a 2-core machine, one. The world tests spend
    // much of their time waiting on PostgreSQL processes and the loopback endpoint, so one worker more than
    // the cores keeps them busy (each world has its own ports, data directories and virtual clock). On
    // 2 cores: 6 min 43 s with the default, 4 min 30 s with 2 workers, 3 min 56 s with 3.
    maxWorkers: availableParallelism() + 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
