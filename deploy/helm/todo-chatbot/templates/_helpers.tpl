{{/*
Names, labels and shared pieces of the pod specs. Every object name is scoped to the release.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<chart>", shortened to the release name when it already contains the chart name. */}}
{{- define "todo-chatbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo-chatbot.backend.fullname" -}}
{{- printf "%s-backend" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.frontend.fullname" -}}
{{- printf "%s-frontend" (include "todo-chatbot.fullname" .) }}
{{- end }}

{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. Call with (dict "ctx" $ "component" "backend"). */}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" .ctx }}
{{ include "todo-chatbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: todo-chatbot
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{/* Selector labels: name, instance and component only, so they never change on upgrade. */}}
{{- define "todo-chatbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-chatbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-chatbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the signing key, database URL and API key. */}}
{{- define "todo-chatbot.secretName" -}}
{{- default (include "todo-chatbot.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The hook-time copy of the database URL for the migration Job (when the chart makes the Secret). */}}
{{- define "todo-chatbot.migrationSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrate" (include "todo-chatbot.fullname" .) }}
{{- end }}
{{- end }}

{{/*
"true" when the ServiceMonitor and PrometheusRule can be applied: the cluster serves the
prometheus-operator's API, or metrics.requireOperatorApi is false (offline renders such as
`helm template` in a GitOps pipeline). Without it an install would fail with `no matches for
kind "PrometheusRule"`; they are left out and NOTES.txt says what to install.
*/}}
{{- define "todo-chatbot.operatorApi" -}}
{{- if or (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") (not .Values.metrics.requireOperatorApi) }}true{{ end }}
{{- end }}

{{- define "todo-chatbot.configMapName" -}}
{{- include "todo-chatbot.fullname" . }}
{{- end }}

{{/* True ("true") when migrations run as a hook Job instead of at container start. */}}
{{- define "todo-chatbot.migrationHook" -}}
{{- if and (eq .Values.database.mode "external") .Values.migrations.hook }}true{{ end }}
{{- end }}

{{/* An image reference: registry/repository, then @digest when pinned, else :tag (appVersion by default). */}}
{{- define "todo-chatbot.image" -}}
{{- $repository := .image.repository }}
{{- if .ctx.Values.image.registry }}
{{- $repository = printf "%s/%s" .ctx.Values.image.registry .image.repository }}
{{- end }}
{{- if .image.digest }}
{{- printf "%s@%s" $repository .image.digest }}
{{- else }}
{{- $tag := .image.tag | default .ctx.Values.image.tag | default .ctx.Chart.AppVersion }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must not be \"latest\": pin a version (the chart's appVersion is the default)" }}
{{- end }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}
{{- end }}

{{/* The container security context every container of the chart runs with. */}}
{{- define "todo-chatbot.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The pod security context every pod of the chart runs with. */}}
{{- define "todo-chatbot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* "true" when the Secret carries an OpenAI API key. */}}
{{- define "todo-chatbot.hasOpenaiApiKey" -}}
{{- if .Values.secrets.existingSecret }}
{{- if .Values.secrets.existingSecretHasOpenaiApiKey }}true{{ end }}
{{- else if .Values.secrets.openaiApiKey }}true{{ end }}
{{- end }}

{{/* Secret-backed settings, as <NAME>_FILE variables pointing into the mounted Secret. */}}
{{- define "todo-chatbot.backendSecretEnv" -}}
- name: BETTER_AUTH_SECRET_FILE
  value: {{ printf "%s/%s" .Values.secrets.mountPath .Values.secrets.keys.betterAuthSecret | quote }}
{{- if eq .Values.database.mode "external" }}
- name: DATABASE_URL_FILE
  value: {{ printf "%s/%s" .Values.secrets.mountPath .Values.secrets.keys.databaseUrl | quote }}
{{- end }}
{{- if include "todo-chatbot.hasOpenaiApiKey" . }}
- name: OPENAI_API_KEY_FILE
  value: {{ printf "%s/%s" .Values.secrets.mountPath .Values.secrets.keys.openaiApiKey | quote }}
{{- end }}
{{- end }}

{{/* The secret volume: only the keys the backend uses, read-only, owner-readable. */}}
{{- define "todo-chatbot.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "todo-chatbot.secretName" . }}
    defaultMode: 0440
    items:
      - key: {{ .Values.secrets.keys.betterAuthSecret }}
        path: {{ .Values.secrets.keys.betterAuthSecret }}
{{- if eq .Values.database.mode "external" }}
      - key: {{ .Values.secrets.keys.databaseUrl }}
        path: {{ .Values.secrets.keys.databaseUrl }}
{{- end }}
{{- if include "todo-chatbot.hasOpenaiApiKey" . }}
      - key: {{ .Values.secrets.keys.openaiApiKey }}
        path: {{ .Values.secrets.keys.openaiApiKey }}
{{- end }}
{{- end }}

{{/* Refuses value combinations that cannot work, with the fix in the message. */}}
{{- define "todo-chatbot.validate" -}}
{{- if eq .Values.database.mode "sqlite" }}
{{- if .Values.backend.autoscaling.enabled }}
{{- fail "backend.autoscaling.enabled needs database.mode=external: the SQLite volume (ReadWriteOnce) serves exactly one backend pod" }}
{{- end }}
{{- if gt (int .Values.backend.replicaCount) 1 }}
{{- fail "backend.replicaCount must be 1 with database.mode=sqlite (one ReadWriteOnce volume, one writer); use database.mode=external for more replicas" }}
{{- end }}
{{- end }}
{{- if and (eq .Values.database.mode "external") (not .Values.backend.autoscaling.enabled) (lt (int .Values.backend.replicaCount) 2) }}
{{- fail "database.mode=external runs two or more backend replicas, so a rollout or a lost node never empties the service: set backend.replicaCount to 2 or more, or enable backend.autoscaling" }}
{{- end }}
{{- $grace := int .Values.config.shutdownGraceSeconds }}
{{- range $setting := list "requestTimeoutSeconds" "proxyTimeoutSeconds" }}
{{- if lt $grace (int (index $.Values.config $setting)) }}
{{- fail (printf "config.shutdownGraceSeconds (%d) is shorter than config.%s (%v): a request still running at shutdown would be cut off; raise the grace or lower the timeout" $grace $setting (index $.Values.config $setting)) }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.tls.enabled (not .Values.ingress.host) }}
{{- fail "ingress.tls.enabled needs ingress.host: a certificate is issued for a host name" }}
{{- end }}
{{- range $component := list "backend" "frontend" }}
{{- $autoscaling := (index $.Values $component).autoscaling }}
{{- if and $autoscaling.enabled (gt (int $autoscaling.minReplicas) (int $autoscaling.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas is above %s.autoscaling.maxReplicas" $component $component) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Probes: startup gates the others; readiness follows /readyz (database / backend reachable), liveness only /healthz. */}}
{{- define "todo-chatbot.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  timeoutSeconds: 2
  failureThreshold: 30
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{/*
Zero-downtime termination without a preStop hook (the images have no shell, and the preStop
`sleep` action needs Kubernetes 1.29): on SIGTERM each service answers /readyz with 503 while it
keeps serving for SHUTDOWN_DELAY_SECONDS, so the endpoints and the frontend's connections move
away, then drains in-flight requests within SHUTDOWN_GRACE_SECONDS.
*/}}
{{- define "todo-chatbot.terminationGracePeriodSeconds" -}}
{{- add .Values.config.shutdownDelaySeconds .Values.config.shutdownGraceSeconds 5 }}
{{- end }}

{{/*
A Deployment's replicas. Without autoscaling: the value. With it: on install the HPA's minimum (so
the rollout waits for that many pods, not one), on upgrade what the HPA has set (the live
object's), so an upgrade neither resets the count nor leaves the field to a three-way merge.
Call with (dict "ctx" $ "component" "backend").
*/}}
{{- define "todo-chatbot.replicas" -}}
{{- $values := index .ctx.Values .component }}
{{- if not $values.autoscaling.enabled }}
{{- $values.replicaCount }}
{{- else }}
{{- $name := include (printf "todo-chatbot.%s.fullname" .component) .ctx }}
{{- $live := lookup "apps/v1" "Deployment" .ctx.Release.Namespace $name }}
{{- $current := 0 }}
{{- if $live }}{{ $current = int (default 0 $live.spec.replicas) }}{{ end }}
{{- max (int $values.autoscaling.minReplicas) $current }}
{{- end }}
{{- end }}

{{/* Spread replicas over nodes when the cluster has more than one. */}}
{{- define "todo-chatbot.affinity" -}}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "todo-chatbot.selectorLabels" . | nindent 14 }}
{{- end }}
