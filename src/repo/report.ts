/**
 * Validation output: a table (identity × context), then one line per problem with the command
 * that fixes it; or JSON; or GitHub Actions annotations.
 */
import { short } from './keyString.ts';
import { CONTEXT_LABEL } from './model.ts';
import type { ValidationResult } from './validate.ts';

export function renderTable(r: ValidationResult): string {
  const wrong = new Set(r.problems.filter((p) => p.kind === 'mismatch' || p.kind === 'stale').map((p) => `${p.identity}|${p.file}`));
  const header = ['identity', ...r.contexts.map((c) => CONTEXT_LABEL[c])];
  const rows = r.identities.map((id) => [
    id,
    ...r.contexts.map((c) => {
      const list = r.sightings.filter((s) => s.identity === id && s.context === c);
      if (list.length === 0) return '—';
      const bad = list.filter((s) => wrong.has(`${id}|${s.where}`) || (c === 'keys.txt' && wrong.has(`${id}|${s.where.replace(/:\d+$/, '')}`)));
      const shown = bad.length === list.length ? list[0]! : list.find((s) => !bad.includes(s))!;
      return `${bad.length === list.length ? '✗' : '✓'} ${short(shown.recipient)}`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((row) => [...row[i]!].length)));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const bad = new Set(r.problems.filter((p) => p.kind === 'recipients').map((p) => p.file));
  out.push('', `${r.files.length} encrypted file(s) checked, ${bad.size} with recipients that differ from their rule.`);
  if (r.problems.length === 0) out.push('', 'All keys correspond and every file is encrypted to its rule.');
  else {
    out.push('', `${r.problems.length} problem(s):`);
    for (const p of r.problems) out.push(`✗ ${p.message}`, `    fix: ${p.fix}`);
  }
  return out.join('\n') + '\n';
}

export function renderJson(r: ValidationResult): string {
  return JSON.stringify({ ok: r.problems.length === 0, identities: r.identities, contexts: r.contexts, sightings: r.sightings, files: r.files, problems: r.problems }, null, 2) + '\n';
}

function esc(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function renderGithub(r: ValidationResult): string {
  const lines = r.problems.map((p) => {
    const file = p.file && !p.file.startsWith('Bitwarden') ? p.file.replace(/:(\d+)$/, '') : undefined;
    const lineNo = p.file ? /:(\d+)$/.exec(p.file)?.[1] : undefined;
    const loc = file ? ` file=${esc(file)}${lineNo ? `,line=${lineNo}` : ''}` : '';
    return `::error${loc}::${esc(`${p.message} — fix: ${p.fix}`)}`;
  });
  if (!lines.length) lines.push(`::notice::keybridge validate: ${r.identities.length} identities and ${r.files.length} encrypted files correspond`);
  return lines.join('\n') + '\n';
}
