import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The repository carries its own design (docs/architecture.md): no link in its Markdown
 * may leave it (another host, an absolute path, `../shared/…` beside the checkout), and
 * every relative link must name a file that exists.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const markdown = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: root, encoding: 'utf8' })
  .split('\n').filter((f) => f !== '' && !f.startsWith('node_modules/') && existsSync(resolve(root, f)));

/** `[text](target)` outside code: fenced blocks and inline code spans are left out. */
function linksOf(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('links in the repository\'s Markdown', () => {
  it('finds the documents (a check over no file would pass anything)', () => {
    expect(markdown).toContain('README.md');
    expect(markdown).toContain('docs/architecture.md');
    expect(linksOf(readFileSync(resolve(root, 'README.md'), 'utf8'))).toContain('docs/architecture.md');
  });

  it.each(markdown)('%s links only inside the repository, to files that exist', (file) => {
    const text = readFileSync(resolve(root, file), 'utf8');
    const broken = linksOf(text).filter((target) => {
      if (target.startsWith('#')) return false;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('/')) return true;
      const path = resolve(root, dirname(file), decodeURI(target.split('#')[0]!));
      return relative(root, path).startsWith('..') || !existsSync(path);
    });
    expect(broken).toEqual([]);
    expect(text).not.toMatch(/\.\.\/shared\//);
  });
});
