// The checks above are only as good as their ability to fail: each is shown a bad input here.
import { describe, expect, test } from 'vitest'
import { render } from '../src/helm.js'
import { validateObject } from '../src/models.js'
import { restrictedViolations } from '../src/pod-security.js'
import { podSpecs } from '../src/select.js'

describe('the checkers catch what they claim to', () => {
  test('schema validation reports wrong types and unknown fields', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labelz: {} },
      spec: {
        replicas: 'two',
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'i', readinesProbe: {} }] },
        },
      },
    }
    const errors = await validateObject(deployment)
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/replicas must be integer/),
        'Deployment.metadata.labelz: unknown field',
        'Deployment.spec.template.spec.containers[0].readinesProbe: unknown field',
      ]),
    )
    expect(await validateObject({ apiVersion: 'batch/v1', kind: 'CronJob' })).toEqual([
      'batch/v1 CronJob: not a kind this project expects',
    ])
  })

  test('the restricted profile check flags each kind of violation', () => {
    const violations = restrictedViolations(
      {
        hostNetwork: true,
        volumes: [{ name: 'host', hostPath: { path: '/' } }],
        containers: [
          {
            name: 'c',
            ports: [{ containerPort: 80, hostPort: 80 }],
            securityContext: {
              privileged: true,
              capabilities: { add: ['SYS_ADMIN'] },
              runAsUser: 0,
            },
          },
        ],
      },
      'pod',
    )
    expect(violations).toEqual([
      'pod: hostNetwork is true',
      'pod: volume host has type hostPath',
      'pod container c: privileged',
      'pod container c: allowPrivilegeEscalation is not false',
      'pod container c: capabilities.drop lacks ALL',
      'pod container c: adds capability SYS_ADMIN',
      'pod container c: runAsNonRoot is not true',
      'pod container c: runAsUser 0',
      'pod container c: seccompProfile is unset, not RuntimeDefault or Localhost',
      'pod container c: hostPort 80',
      'pod container c: readOnlyRootFilesystem is not true',
    ])
  })

  test('turning the security contexts off is caught on the rendered chart', () => {
    const objects = render({
      values: {
        usersApi: {
          podSecurityContext: { enabled: false },
          containerSecurityContext: { enabled: false },
        },
      },
    })
    const users = podSpecs(objects).find((p) => p.where === 'Deployment/users-auth-users-api')!
    expect(restrictedViolations(users.spec, users.where)).toContain(
      'Deployment/users-auth-users-api container users-api: runAsNonRoot is not true',
    )
  })
})
