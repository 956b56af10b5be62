// Builds @hushpay/web with esbuild:
//   dist/index.js (+ .d.ts by tsc)  the SDK for tenant pages (ES module)
//   dist/frame/card-frame.js        the card iframe's script, wasm-bindgen glue bundled in
//   dist/frame/card.wasm            from build/wasm (scripts/build-wasm.sh runs first)
//   dist/frame/card-frame.css       the iframe's base stylesheet (inlined by the gateway)
//   dist/pages/                     the gateway's hosted pages: pay.js + pay.css (pay-by-link),
//                                   console.js + console.css (agent console), hushpay-web.js
//                                   (the SDK for the demo patient portal)
// and prints the iframe's gzipped size (wasm + JS; budget 60 KB).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const glue = join(here, 'build', 'wasm', 'hushpay_wasm.js');
const wasm = join(here, 'build', 'wasm', 'hushpay_wasm_bg.wasm');
if (!existsSync(glue) || !existsSync(wasm)) {
  console.error('build: build/wasm is missing; run `bash ../scripts/build-wasm.sh` (npm run build does)');
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'frame'), { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'frame', 'card-frame.ts')],
  outfile: join(dist, 'frame', 'card-frame.js'),
  bundle: true,
  format: 'iife',
  minify: true,
  target: ['chrome100', 'firefox100', 'safari15'],
  alias: { 'hushpay-wasm-glue': glue },
  // The glue's default wasm URL (import.meta.url) is never used: the script passes its own fetch.
  define: { 'import.meta.url': '""' },
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(wasm, join(dist, 'frame', 'card.wasm'));
copyFileSync(join(here, 'src', 'frame', 'card-frame.css'), join(dist, 'frame', 'card-frame.css'));

await build({
  entryPoints: [join(here, 'src', 'index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  sourcemap: true,
  logLevel: 'warning',
});
mkdirSync(join(dist, 'pages'), { recursive: true });
for (const page of ['pay', 'console']) {
  const entry = join(here, 'src', page === 'pay' ? 'pages' : 'console', `${page}.ts`);
  if (!existsSync(entry)) continue;
  await build({
    entryPoints: [entry],
    outfile: join(dist, 'pages', `${page}.js`),
    bundle: true,
    format: 'iife',
    minify: true,
    target: ['chrome100', 'firefox100', 'safari15'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(dirname(entry), `${page}.css`), join(dist, 'pages', `${page}.css`));
}
copyFileSync(join(dist, 'index.js'), join(dist, 'pages', 'hushpay-web.js'));
execFileSync(join(here, '..', 'node_modules', '.bin', 'tsc'), ['-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
fullySpecifyDeclarations(dist);

const gz = (f) => gzipSync(readFileSync(join(dist, 'frame', f)), { level: 9 }).length;
const js = gz('card-frame.js');
const wasmGz = gz('card.wasm');
console.log(`card iframe gzipped: card.wasm ${wasmGz} B + card-frame.js ${js} B = ${wasmGz + js} B (budget 61440 B)`);
if (wasmGz + js > 60 * 1024) {
  console.error('build: the card iframe is over its 60 KB gzipped budget');
  process.exit(1);
}

// tsc keeps the sources' extensionless relative imports (`./card/card-form`) in the .d.ts files,
// which Node's ESM resolution (TypeScript's `NodeNext`) refuses in an installed package: every
// type would be lost to an integrator. Rewrite each to the file it names (`./card/card-form.js`,
// or `./dir/index.js`); a specifier that names no declaration file fails the build.
// examples/sdk-consumer type-checks the packed result under NodeNext and Bundler.
function fullySpecifyDeclarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      fullySpecifyDeclarations(path);
      continue;
    }
    if (!entry.name.endsWith('.d.ts')) continue;
    const text = readFileSync(path, 'utf8');
    const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*)\2/g, (match, lead, quote, spec) => {
      if (/\.(js|mjs|cjs|json)$/.test(spec)) return match;
      const base = join(dirname(path), spec);
      if (existsSync(`${base}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`;
      if (existsSync(join(base, 'index.d.ts'))) return `${lead}${quote}${spec}/index.js${quote}`;
      console.error(`build: ${path}: import '${spec}' names no declaration file`);
      process.exit(1);
    });
    if (fixed !== text) writeFileSync(path, fixed);
  }
}
