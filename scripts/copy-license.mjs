// prepack: every package's tarball carries the repository's MIT LICENSE (npm packs a LICENSE file from
// the package folder whatever `files` says). The copy is not committed: the root LICENSE is the one source.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

copyFileSync(join(import.meta.dirname, '..', 'LICENSE'), join(process.cwd(), 'LICENSE'));
