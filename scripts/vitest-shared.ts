// Workspace packages export their TypeScript sources under this condition, so tests run the
// code as written, without a build step.
const conditions = ['@users-auth/source', 'node', 'import', 'default']

export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
}
