import { write, type Command } from './io.ts';
import { VERSION } from '../version.ts';

export const command: Command = {
  async run(_argv, io) {
    await write(io.stdout, `keybridge ${VERSION}\n`);
    return 0;
  },
};
