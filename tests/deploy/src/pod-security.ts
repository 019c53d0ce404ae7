// The Pod Security Standard "restricted" profile (kubernetes.io/docs/concepts/security/
// pod-security-standards), checked on a pod spec the way the admission controller does, plus
// this project's own rule: a read-only root filesystem on every container.

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const objAt = (o: Obj, key: string): Obj => {
  const v = o[key]
  return isObj(v) ? v : {}
}
const listAt = (o: Obj, key: string): Obj[] => {
  const v = o[key]
  return Array.isArray(v) ? v.filter(isObj) : []
}

const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
])
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
])

/** Violations of the restricted profile (and of readOnlyRootFilesystem); [] when compliant. */
export function restrictedViolations(pod: object, where: string): string[] {
  const podSpec = pod as Obj
  const v: string[] = []
  const podSc = objAt(podSpec, 'securityContext')
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (podSpec[key] === true) v.push(`${where}: ${key} is true`)
  }
  for (const vol of listAt(podSpec, 'volumes')) {
    const types = Object.keys(vol).filter((k) => k !== 'name')
    for (const t of types) {
      if (!ALLOWED_VOLUMES.has(t)) v.push(`${where}: volume ${String(vol.name)} has type ${t}`)
    }
  }
  for (const s of listAt(podSc, 'sysctls')) {
    if (!SAFE_SYSCTLS.has(String(s.name))) v.push(`${where}: unsafe sysctl ${String(s.name)}`)
  }
  const podSeccomp = objAt(podSc, 'seccompProfile').type
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') {
    v.push(`${where}: pod seccompProfile ${JSON.stringify(podSeccomp)}`)
  }
  if (podSc.runAsUser === 0) v.push(`${where}: pod runAsUser 0`)

  const containers = [
    ...listAt(podSpec, 'initContainers'),
    ...listAt(podSpec, 'containers'),
    ...listAt(podSpec, 'ephemeralContainers'),
  ]
  if (containers.length === 0) v.push(`${where}: no containers`)
  for (const c of containers) {
    const at = `${where} container ${String(c.name)}`
    const sc = objAt(c, 'securityContext')
    if (sc.privileged === true) v.push(`${at}: privileged`)
    if (sc.allowPrivilegeEscalation !== false)
      v.push(`${at}: allowPrivilegeEscalation is not false`)
    const caps = objAt(sc, 'capabilities')
    const drop = Array.isArray(caps.drop) ? caps.drop : []
    if (!drop.includes('ALL')) v.push(`${at}: capabilities.drop lacks ALL`)
    const add = Array.isArray(caps.add) ? caps.add : []
    for (const a of add) if (a !== 'NET_BIND_SERVICE') v.push(`${at}: adds capability ${String(a)}`)
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot
    if (runAsNonRoot !== true) v.push(`${at}: runAsNonRoot is not true`)
    if (sc.runAsUser === 0) v.push(`${at}: runAsUser 0`)
    const seccomp = objAt(sc, 'seccompProfile').type ?? podSeccomp
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      v.push(
        `${at}: seccompProfile is ${seccomp === undefined ? 'unset' : JSON.stringify(seccomp)}, not RuntimeDefault or Localhost`,
      )
    }
    if (sc.procMount !== undefined && sc.procMount !== 'Default') v.push(`${at}: procMount`)
    for (const p of listAt(c, 'ports')) {
      if (p.hostPort !== undefined && p.hostPort !== 0)
        v.push(`${at}: hostPort ${JSON.stringify(p.hostPort)}`)
    }
    if (sc.readOnlyRootFilesystem !== true) v.push(`${at}: readOnlyRootFilesystem is not true`)
  }
  return v
}
