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
{{- $tag := default .ctx.Chart.AppVersion .ctx.Values.image.tag }}
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

{{/* Zero-downtime termination: endpoints drop the pod during the sleep, then SIGTERM drains. */}}
{{- define "todo-chatbot.lifecycle" -}}
lifecycle:
  preStop:
    sleep:
      seconds: {{ .Values.config.preStopSleepSeconds }}
{{- end }}

{{- define "todo-chatbot.terminationGracePeriodSeconds" -}}
{{- add .Values.config.preStopSleepSeconds .Values.config.shutdownGraceSeconds 5 }}
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
