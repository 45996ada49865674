// Build step (scripts/build.mjs): man pages and shell completions into the directory argv[2].
import { writeDocs } from '../src/cli/docs.ts';

await writeDocs(process.argv[2] ?? 'dist');
