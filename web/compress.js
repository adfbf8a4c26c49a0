// Writes a gzip copy (level 9, deterministic: no name, no time) beside each built file the node
// serves compressed, so the node sends fewer bytes without compressing per request.
import { gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node web/compress.js DIST_DIR');
for (const name of readdirSync(dir, { recursive: true })) {
  const path = join(dir, name);
  if (!statSync(path).isFile() || !/\.(html|js|css|svg|json)$/.test(path)) continue;
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
}
