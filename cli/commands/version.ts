/** `provenant info`: versions and paths, handy in bug reports. */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('info')
    .description('print versions of Provenant, Node and the platform')
    .action(() => {
      process.stdout.write(
        `${JSON.stringify({ provenant: '0.1.0', node: process.version, platform: process.platform, arch: process.arch })}\n`,
      );
    });
}
