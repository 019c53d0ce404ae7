import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

export interface OpenApiInfo {
  title: string
  version: string
  description?: string
  /** Adds a bearer security scheme named `bearer` for routes that declare it. */
  bearerAuth?: boolean
}

/** OpenAPI 3 generated from the route schemas: `/openapi.json` and Swagger UI at `/docs`. */
export async function registerOpenApi(app: FastifyInstance, info: OpenApiInfo): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version, description: info.description ?? '' },
      components: info.bearerAuth
        ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }
        : {},
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
}
