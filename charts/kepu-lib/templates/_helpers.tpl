{{/*
Names and wiring shared by every Kepu chart. All defaults derive from the release
name, so the umbrella and its subcharts agree without extra values:
  PostgreSQL (CloudNativePG)  <release>-pg            service <release>-pg-rw
  Kafka (Strimzi)             <release>-kafka         service <release>-kafka-kafka-bootstrap
  Keycloak (operator)         <release>-keycloak      service <release>-keycloak-service
*/}}

{{- define "kepu.fullname" -}}
{{- printf "%s-%s" .Release.Name .Values.component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kepu.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Values.component }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "kepu.labels" -}}
{{ include "kepu.selectorLabels" . }}
app.kubernetes.io/part-of: kepu
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels for umbrella-level objects (no component). Call with the root context. */}}
{{- define "kepu.platformLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: kepu
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kepu.image" -}}
{{- $g := .Values.global.image -}}
{{- $repo := .Values.image.repository | default (printf "%s/kepu-%s" $g.registry .Values.component) -}}
{{- $tag := .Values.image.tag | default $g.tag | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{- define "kepu.pgCluster" -}}
{{- .Values.global.postgres.cluster | default (printf "%s-pg" .Release.Name) -}}
{{- end -}}

{{- define "kepu.pgHost" -}}
{{- .Values.global.postgres.host | default (printf "%s-rw" (include "kepu.pgCluster" .)) -}}
{{- end -}}

{{- define "kepu.pgAppSecret" -}}
{{- .Values.global.postgres.appSecret | default (printf "%s-pg-app" .Release.Name) -}}
{{- end -}}

{{/* Owner secret of one service database. Call with (dict "ctx" $ "svc" "identity"). */}}
{{- define "kepu.pgOwnerSecret" -}}
{{- printf "%s-pg-%s-owner" .ctx.Release.Name .svc -}}
{{- end -}}

{{- define "kepu.kafkaCluster" -}}
{{- printf "%s-kafka" .Release.Name -}}
{{- end -}}

{{- define "kepu.kafkaBootstrap" -}}
{{- .Values.global.kafka.bootstrapServers | default (printf "%s-kafka-kafka-bootstrap:9092" .Release.Name) -}}
{{- end -}}

{{- define "kepu.keycloakName" -}}
{{- printf "%s-keycloak" .Release.Name -}}
{{- end -}}

{{- define "kepu.oidcIssuer" -}}
{{- .Values.global.oidc.issuer | default (printf "https://%s/realms/%s" .Values.global.oidc.hostname .Values.global.oidc.realm) -}}
{{- end -}}

{{- define "kepu.oidcJwksUrl" -}}
{{- .Values.global.oidc.jwksUrl | default (printf "http://%s-service:8080/realms/%s/protocol/openid-connect/certs" (include "kepu.keycloakName" .) .Values.global.oidc.realm) -}}
{{- end -}}

{{- define "kepu.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kepu.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* A writable /tmp for a read-only root filesystem. */}}
{{- define "kepu.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}

{{- define "kepu.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}
