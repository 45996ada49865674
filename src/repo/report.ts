/**
 * Validation output: a table (identity × context, keys shown the way each context stores them),
 * then one line per problem with the command that fixes it — root causes first, the problems
 * that follow from one marked as such; or JSON; or GitHub Actions annotations.
 */
import { abbreviations } from './keyString.ts';
import { CONTEXT_LABEL, exitStatus, type Sighting } from './model.ts';
import type { ValidationResult } from './validate.ts';

/** The key as the context stores it: an agenix entry, host key or Bitwarden item as its ssh key. */
function stored(s: Sighting): string {
  return s.written?.startsWith('ssh-') && s.context !== 'clan' ? s.written : s.recipient;
}

/** The length of `s` in code points (what `[...s].length` counts), without building the array. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

export function renderTable(r: ValidationResult): string {
  // identity → the files (where) its mismatch and stale problems name; identity → context → sightings
  // (nested maps keyed by the strings themselves: no composite key built per sighting or cell).
  const wrong = new Map<string | undefined, Set<string | undefined>>();
  for (const p of r.problems) if (p.kind === 'mismatch' || p.kind === 'stale') (wrong.get(p.identity) ?? wrong.set(p.identity, new Set()).get(p.identity)!).add(p.file);
  const cells = new Map<string, Map<string, Sighting[]>>();
  for (const s of r.sightings) {
    const byContext = cells.get(s.identity) ?? cells.set(s.identity, new Map()).get(s.identity)!;
    (byContext.get(s.context) ?? byContext.set(s.context, []).get(s.context)!).push(s);
  }
  const invalidByName = new Map(r.invalid.filter((i) => i.name).map((i) => [`${i.name}|${i.context}`, i]));
  const ab = abbreviations(r.sightings.map(stored));
  const header = ['identity', ...r.contexts.map((c) => CONTEXT_LABEL[c])];
  const rows = r.identities.map((id) => [
    id,
    ...r.contexts.map((c) => {
      const list = cells.get(id)?.get(c) ?? [];
      if (list.length === 0) return invalidByName.has(`${id}|${c}`) ? '✗ invalid key' : '—';
      const w = wrong.get(id);
      const bad = w ? list.filter((s) => w.has(s.where) || (c === 'keys.txt' && w.has(s.where.replace(/:\d+$/, '')))) : [];
      const shown = bad.length === list.length ? list[0]! : list.find((s) => !bad.includes(s))!;
      return `${bad.length === list.length ? '✗' : '✓'} ${ab.get(stored(shown))}`;
    }),
  ]);
  const widths = header.map((h, i) => rows.reduce((w, row) => Math.max(w, codePoints(row[i]!)), codePoints(h)));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i]! - codePoints(c))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const bad = new Set(r.problems.filter((p) => p.kind === 'recipients').map((p) => p.file));
  out.push('', `${r.files.length} encrypted file(s) checked, ${bad.size} with recipients that differ from their rule.`);
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.problems.length === 0) out.push('', 'All keys correspond and every file is encrypted to its rule.');
  else {
    const unchecked = r.problems.filter((p) => p.kind === 'unchecked').length;
    out.push('', `${r.problems.length} problem(s)${unchecked ? `, ${unchecked} of them things that could not be checked` : ''}:`);
    const number = new Map(r.problems.map((p, i) => [p.message, i + 1]));
    r.problems.forEach((p, i) => {
      const follows = p.followsFrom ? number.get(p.followsFrom) : undefined;
      out.push(`✗ ${i + 1}. ${p.message}${follows ? ` (follows from ${follows})` : ''}`, `    fix: ${p.fix}`);
    });
    out.push('', 'Fix commands run in the repository root.');
  }
  return out.join('\n') + '\n';
}

export function renderJson(r: ValidationResult): string {
  return JSON.stringify({ ok: r.problems.length === 0, exitStatus: exitStatus(r.problems), identities: r.identities, contexts: r.contexts, sightings: r.sightings, files: r.files, problems: r.problems, notes: r.notes, invalid: r.invalid }, null, 2) + '\n';
}

/** `--json` output for a check that could not run at all. */
export function renderJsonError(message: string, exit: number): string {
  return JSON.stringify({ ok: false, exitStatus: exit, error: message }, null, 2) + '\n';
}

function esc(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function renderGithub(r: ValidationResult): string {
  const lines = r.problems.map((p) => {
    const file = p.file && !p.file.startsWith('Bitwarden') ? p.file.replace(/:(\d+)$/, '').replace(/ \(.*$/, '') : undefined;
    const lineNo = p.file ? /:(\d+)$/.exec(p.file)?.[1] : undefined;
    const loc = file ? ` file=${esc(file)}${lineNo ? `,line=${lineNo}` : ''}` : '';
    return `::error${loc}::${esc(`${p.message} — fix: ${p.fix}`)}`;
  });
  for (const n of r.notes) lines.push(`::notice::${esc(n)}`);
  if (!r.problems.length) lines.push(`::notice::keybridge validate: ${r.identities.length} identities and ${r.files.length} encrypted files correspond`);
  return lines.join('\n') + '\n';
}
