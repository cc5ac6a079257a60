#!/usr/bin/env node
// Entry point of the `provenant` CLI. The sources are TypeScript; tsx compiles them on the fly so
// `npm install && npm start` works without a build step. The tsconfig is named explicitly: tsx
// would otherwise look for one in the working directory, and the contracts need its decorator
// settings wherever the command is run from.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// `provenant … | head` closes stdout early: end quietly, as Unix tools do.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(0);
  throw err;
});

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../cli/index.ts');
process.exitCode = await main(process.argv);
