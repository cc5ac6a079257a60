/**
 * `npm run test:full` sets PROVENANT_TEST_FULL=1: tests then run their long variants (every board
 * profile, more runs) beside the short ones `npm test` always runs. CI runs `npm test`.
 */
export const FULL = process.env.PROVENANT_TEST_FULL === '1';
