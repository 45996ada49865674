/**
 * How the demo speaks: numbered steps, the commands it runs (so a reader can repeat them),
 * and what each produced. Secrets are never passed here.
 */
import type { Writable } from 'node:stream';

export class DemoReport {
  private step = 0;
  private readonly started = Date.now();

  constructor(private readonly out: Writable) {}

  heading(text: string): void {
    this.step++;
    this.out.write(`\n[${this.step}] ${text}\n`);
  }

  command(argv: readonly string[]): void {
    this.out.write(`    $ ${argv.map(quote).join(' ')}\n`);
  }

  info(text: string): void {
    for (const line of text.replace(/\n$/, '').split('\n')) this.out.write(`    ${line}\n`);
  }

  ok(text: string): void {
    this.out.write(`    ok: ${text}\n`);
  }

  done(): void {
    const s = ((Date.now() - this.started) / 1000).toFixed(1);
    this.out.write(`\nDemo complete: ${this.step} steps in ${s} s.\n`);
  }
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
