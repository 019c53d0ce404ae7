{{/*
Helpers shared by every template. Most take a component context, built in each template as
  dict "root" $ "key" $key "name" ($key | kebabcase) "values" (index $.Values $key)
with key usersApi or authApi and name users-api or auth-api. One set of templates ranges over
both components, so the two Deployments, Services, HPAs... cannot drift apart.
*/}}

{{- define "users-auth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "users-auth.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "users-auth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "users-auth.componentFullname" -}}
{{- printf "%s-%s" (include "users-auth.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "users-auth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "users-auth.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "users-auth.labels" -}}
helm.sh/chart: {{ include "users-auth.chart" .root }}
{{ include "users-auth.selectorLabels" . }}
{{- with .root.Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: {{ include "users-auth.name" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selects every pod of this release, whatever its component. */}}
{{- define "users-auth.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "users-auth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* repository[:tag][@digest]; the digest wins over a mutable tag when both are given. */}}
{{- define "users-auth.image" -}}
{{- $image := .values.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (toString (default .root.Chart.AppVersion $image.tag)) }}
{{- end }}
{{- end }}

{{- define "users-auth.serviceAccountName" -}}
{{- if .values.serviceAccount.create }}
{{- default (include "users-auth.componentFullname" .) .values.serviceAccount.name }}
{{- else }}
{{- default "default" .values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read credentials from; the chart never creates it. */}}
{{- define "users-auth.secretName" -}}
{{- default (printf "%s-secrets" (include "users-auth.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "users-auth.authApiUrl" -}}
{{- $ctx := dict "root" . "name" "auth-api" }}
{{- printf "http://%s.%s.svc:%v" (include "users-auth.componentFullname" $ctx) .Release.Namespace .Values.authApi.service.ports.http }}
{{- end }}

{{/* Renders a value that may contain templates (a string or any YAML structure). */}}
{{- define "users-auth.tplvalues.render" -}}
{{- if typeIs "string" .value }}
{{- tpl .value .context }}
{{- else }}
{{- tpl (.value | toYaml) .context }}
{{- end }}
{{- end }}

{{/*
Non-secret environment of a component, as ConfigMap data. Its hash goes into the pod
annotation checksum/config, so a config change rolls the pods.
*/}}
{{- define "users-auth.configData" -}}
{{- $v := .values }}
{{- $jwt := .root.Values.jwt }}
NODE_ENV: "production"
HOST: "0.0.0.0"
PORT: {{ $v.containerPorts.http | toString | quote }}
LOG_LEVEL: {{ $v.config.logLevel | quote }}
JWT_ISSUER: {{ $jwt.issuer | quote }}
JWT_AUDIENCE: {{ $jwt.audience | quote }}
ACCESS_TOKEN_TTL: {{ $jwt.accessTokenTtl | quote }}
{{- with .root.Values.otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- if eq .key "usersApi" }}
AUTH_API_URL: {{ include "users-auth.authApiUrl" .root | quote }}
REFRESH_TOKEN_TTL: {{ $v.config.refreshTokenTtl | quote }}
PASSWORD_MIN_LENGTH: {{ $v.config.passwordMinLength | toString | quote }}
{{- with $v.config.trustedProxies }}
TRUSTED_PROXIES: {{ . | quote }}
{{- end }}
{{- with $v.config.corsOrigins }}
CORS_ORIGINS: {{ . | quote }}
{{- end }}
MAIL_FROM: {{ .root.Values.mail.from | quote }}
{{- with .root.Values.mail.appUrl }}
APP_URL: {{ . | quote }}
{{- end }}
REQUIRE_EMAIL_VERIFICATION: {{ .root.Values.mail.requireEmailVerification | toString | quote }}
{{- else }}
ARGON2_MEMORY_KIB: {{ $v.config.argon2MemoryKib | toString | quote }}
ARGON2_ITERATIONS: {{ $v.config.argon2Iterations | toString | quote }}
ARGON2_PARALLELISM: {{ $v.config.argon2Parallelism | toString | quote }}
{{- with $v.config.hashThreads }}
HASH_THREADS: {{ . | toString | quote }}
{{- /* libuv sizes its pool from the environment the process starts with. */}}
UV_THREADPOOL_SIZE: {{ . | toString | quote }}
{{- end }}
{{- /* 0 is a valid limit and budget, so only "" and null mean unset. */}}
{{- $limit := $v.config.hashQueueLimit }}
{{- if and (not (kindIs "invalid" $limit)) (ne (toString $limit) "") }}
HASH_QUEUE_LIMIT: {{ $limit | toString | quote }}
{{- end }}
{{- with $v.config.hashQueueTimeoutMs }}
HASH_QUEUE_TIMEOUT_MS: {{ . | toString | quote }}
{{- end }}
{{- $budget := $v.config.hashQueueBudgetMs }}
{{- if and (not (kindIs "invalid" $budget)) (ne (toString $budget) "") }}
HASH_QUEUE_BUDGET_MS: {{ $budget | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Credentials, always by reference to the Secret; never a literal. */}}
{{- define "users-auth.secretEnv" -}}
{{- $secret := include "users-auth.secretName" .root }}
{{- $keys := .root.Values.secrets.keys }}
{{- if eq .key "usersApi" }}
- name: MONGODB_URI
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.mongodbUri }}
- name: INTERNAL_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.internalApiToken }}
{{- if .root.Values.redis.enabled }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.redisUrl }}
{{- end }}
{{- $mail := .root.Values.mail }}
{{- $mailSecret := default $secret $mail.existingSecret }}
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ $mailSecret }}
      key: {{ $mail.keys.smtpUrl }}
- name: SMTP_USER
  valueFrom:
    secretKeyRef:
      name: {{ $mailSecret }}
      key: {{ $mail.keys.smtpUser }}
      optional: true
- name: SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $mailSecret }}
      key: {{ $mail.keys.smtpPassword }}
      optional: true
{{- else }}
- name: INTERNAL_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.acceptedInternalApiTokens }}
- name: JWT_PRIVATE_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.jwtPrivateKeys }}
- name: TOTP_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.totpEncryptionKeys }}
{{- if not .values.config.hashThreads }}
{{- /* One hashing thread per CPU of the limit: os.availableParallelism() would see the
node's CPUs, not the container's share. */}}
- name: HASH_THREADS
  valueFrom:
    resourceFieldRef:
      containerName: {{ .name }}
      resource: limits.cpu
      divisor: "1"
{{- /* libuv sizes its pool from the environment the process starts with. */}}
- name: UV_THREADPOOL_SIZE
  valueFrom:
    resourceFieldRef:
      containerName: {{ .name }}
      resource: limits.cpu
      divisor: "1"
{{- end }}
{{- end }}
{{- end }}

{{- define "users-auth.probe" -}}
{{- $p := omit .probe "enabled" }}
httpGet:
  path: {{ .path }}
  port: http
{{- toYaml $p | nindent 0 }}
{{- end }}

{{/*
Refusals, each with its fix. Without Redis every users-api replica keeps its own rate-limit
and lockout counters, so N replicas grant N times each budget. Behind an Ingress without
trusted proxies users-api takes the controller's address for every client's, so all clients
share one IP budget. The operational endpoints never go through the Ingress.
*/}}
{{- define "users-auth.validateValues" -}}
{{- $users := .Values.usersApi }}
{{- $redisHint := printf "Set redis.enabled=true (REDIS_URL from the Secret's %s key), or run one replica" .Values.secrets.keys.redisUrl }}
{{- if not .Values.redis.enabled }}
{{- if and $users.autoscaling.enabled (gt (int $users.autoscaling.maxReplicas) 1) }}
{{- fail (printf "usersApi.autoscaling may run up to %v users-api replicas without Redis (redis.enabled=false): each replica would keep its own rate-limit and lockout counters and grant every budget again. %s (usersApi.autoscaling.enabled=false, usersApi.replicaCount=1)." $users.autoscaling.maxReplicas $redisHint) }}
{{- end }}
{{- if and (not $users.autoscaling.enabled) (gt (int $users.replicaCount) 1) }}
{{- fail (printf "usersApi.replicaCount is %v without Redis (redis.enabled=false): each replica would keep its own rate-limit and lockout counters and grant every budget again. %s (usersApi.replicaCount=1)." $users.replicaCount $redisHint) }}
{{- end }}
{{- end }}
{{- if $users.ingress.enabled }}
{{- if not $users.config.trustedProxies }}
{{- fail "usersApi.ingress.enabled is true but usersApi.config.trustedProxies is empty: users-api would take the ingress controller's address for every client's, so all clients would share one rate-limit budget. Set usersApi.config.trustedProxies to the ingress controller pods' addresses or CIDR (e.g. the cluster's pod CIDR)." }}
{{- end }}
{{- range $host := prepend $users.ingress.extraHosts (dict "name" $users.ingress.hostname) }}
{{- range $p := default $users.ingress.paths $host.paths }}
{{- include "users-auth.refuseOperationalPath" (dict "host" $host.name "path" $p.path "pathType" $p.pathType) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Fails when an Ingress path would route an operational endpoint. Prefix matches whole path
elements; ImplementationSpecific (ingress-nginx) may match any string prefix.
*/}}
{{- define "users-auth.refuseOperationalPath" -}}
{{- $path := trimSuffix "/" .path }}
{{- range $endpoint := list "/metrics" "/readyz" "/healthz" "/docs" "/openapi.json" }}
{{- $exposed := false }}
{{- if eq $.pathType "Exact" }}
{{- $exposed = eq $.path $endpoint }}
{{- else if eq $.pathType "Prefix" }}
{{- $exposed = or (eq $path "") (eq $path $endpoint) (hasPrefix (printf "%s/" $path) $endpoint) }}
{{- else }}
{{- $exposed = hasPrefix $path $endpoint }}
{{- end }}
{{- if $exposed }}
{{- fail (printf "usersApi.ingress: path %s (%s) on host %s would publish %s; the Ingress carries /v1 and /.well-known only, the operational endpoints stay inside the cluster." $.path $.pathType $.host $endpoint) }}
{{- end }}
{{- end }}
{{- end }}
