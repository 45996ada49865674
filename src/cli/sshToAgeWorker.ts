/** Entry of ssh-to-age's conversion thread (bundled as dist/workers/ssh-to-age-public.mjs). */
import { publicWorkerMain } from './sshToAgeConvert.ts';

void publicWorkerMain();
