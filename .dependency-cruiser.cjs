/**
 * Layering (docs: shared/docs/architecture.md, README § Layout). Dependencies point downward only:
 *   http, cli  →  services  →  stamp, pades, registry  →  tsa → pki → cms → signers ;  pdf
 * `pdf`, `registry` and `signers` import nothing of ours but src/errors.ts. src/main.ts is the
 * composition root and may import anything; nothing but the CLI imports it.
 */
const layer = (name) => `^src/${name}/`;
const only = (from, allowed) => ({
  name: `${from}-imports-only-${allowed.join('-') || 'itself'}`,
  comment: `src/${from} may import only ${['itself', 'src/errors.ts', ...allowed.map((a) => `src/${a}`)].join(', ')}`,
  severity: 'error',
  from: { path: layer(from) },
  to: {
    path: '^src/',
    pathNot: [layer(from), '^src/errors\\.ts$', ...allowed.map((a) => (a.endsWith('.ts') ? `^src/${a.replace('.', '\\.')}$` : layer(a)))],
  },
});

module.exports = {
  forbidden: [
    only('pdf', []),
    only('registry', []),
    only('signers', []),
    only('cms', ['signers']),
    only('pki', ['cms', 'signers']),
    only('tsa', ['pki', 'cms', 'signers', 'config.ts']),
    only('stamp', ['pdf']),
    only('pades', ['pdf', 'cms', 'pki', 'tsa', 'signers']),
    only('services', ['stamp', 'pades', 'registry', 'pdf', 'cms', 'pki', 'tsa', 'signers', 'config.ts']),
    {
      name: 'nothing-imports-the-edges',
      comment: 'http and cli are front ends: no lower layer may import them (the CLI may start the HTTP service via main.ts)',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(http|cli)/', '^src/main\\.ts$'] },
      to: { path: ['^src/(http|cli)/', '^src/main\\.ts$'] },
    },
    {
      name: 'http-does-not-import-cli',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/cli/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    { name: 'no-dev-deps-in-src', severity: 'error', from: { path: '^src/' }, to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
