// Workspace packages export their TypeScript sources under this condition, so tests run the
// code as written, without a build step. Only workspace packages (never externalised) see it.
const conditions = ['@users-auth/source', 'node', 'development|production']

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  // Global setup files run in Vitest's own environment.
  environments: { __vitest__: { resolve: { conditions } } },
}
