/** The core runs in a Web Worker and in Node: no Node built-ins, no DOM globals in its sources (tests excepted). */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : [];
  });
}

const NODE_BUILTINS = /from ['"](node:|fs['"]|path['"]|zlib['"]|os['"]|child_process['"])|require\(/;
const DOM_GLOBALS = /\b(document|window|localStorage)\./;

test.each(sources(__dirname).map((path) => relative(__dirname, path)))('%s imports no Node built-in and touches no DOM global', (name) => {
  const text = readFileSync(join(__dirname, name), 'utf8');
  expect(text).not.toMatch(NODE_BUILTINS);
  expect(text).not.toMatch(DOM_GLOBALS);
});
