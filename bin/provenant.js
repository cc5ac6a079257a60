#!/usr/bin/env node
// Entry point of the `provenant` CLI. The sources are TypeScript; tsx compiles them on the fly so
// `npm install && npm start` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/index.ts');
process.exitCode = await main(process.argv);
