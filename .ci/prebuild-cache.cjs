// Keeps the better-sqlite3 binary that `npm ci` compiled (SQLite from source: no prebuilt binary
// can be fetched here) where prebuild-install keeps the binaries it downloads: the npm cache's
// _prebuilds folder, under the name it looks for (the download URL's digest). The next `npm ci`
// on this machine then unpacks it, loads it to check it, and skips the ~100 s compile. Same
// sources, same compiler flags: the key holds better-sqlite3's version, the Node ABI, platform
// and arch, so another version or Node compiles again (and is kept in turn).
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, renameSync } = require('node:fs');
const { dirname, join } = require('node:path');

const pkgFile = require.resolve('better-sqlite3/package.json', { paths: [process.cwd()] });
const dir = dirname(pkgFile);
const fromPkg = require('node:module').createRequire(pkgFile);
const pkg = require(pkgFile);
const rc = fromPkg('prebuild-install/rc');
const util = fromPkg('prebuild-install/util');
const url = util.getDownloadUrl(Object.assign(rc(pkg), { pkg }));
const cached = util.cachedPrebuild(url);
const binary = join(dir, 'build', 'Release', 'better_sqlite3.node');
if (existsSync(cached)) {
  console.log(`better-sqlite3: prebuilt binary cached at ${cached}`);
} else if (existsSync(binary)) {
  require(binary); // only a binary that loads is kept
  mkdirSync(dirname(cached), { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  execFileSync('tar', ['-czf', tmp, '-C', dir, 'build/Release/better_sqlite3.node']);
  renameSync(tmp, cached);
  console.log(`better-sqlite3: compiled binary kept at ${cached} for the next npm ci`);
}
