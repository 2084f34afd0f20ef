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

{{/*
The image: <repository>@<digest> when a digest is given (image.digest, or
global.image.digests.<component>), so what runs is exactly what was scanned and signed;
else <repository>:<tag>.
*/}}
{{- define "kepu.image" -}}
{{- $g := .Values.global.image -}}
{{- $repo := .Values.image.repository | default (printf "%s/kepu-%s" $g.registry .Values.component) -}}
{{- $digest := .Values.image.digest | default (index ($g.digests | default dict) .Values.component) | default "" -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- $tag := .Values.image.tag | default $g.tag | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
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
{{- $port := ternary 9093 9092 (include "kepu.kafkaSecure" . | eq "true") -}}
{{- .Values.global.kafka.bootstrapServers | default (printf "%s-kafka-kafka-bootstrap:%d" .Release.Name $port) -}}
{{- end -}}

{{- define "kepu.kafkaSecure" -}}
{{- if kindIs "bool" .Values.global.kafka.secure }}{{ .Values.global.kafka.secure }}{{ else }}true{{ end -}}
{{- end -}}

{{/* The KafkaUser of a component (its SCRAM user name and the Secret Strimzi writes). */}}
{{- define "kepu.kafkaUser" -}}
{{- printf "%s-%s" .Release.Name .Values.component -}}
{{- end -}}

{{/*
Kafka client settings of a service process (kepu_common.bus.security_settings): TLS with
the cluster CA and SCRAM-SHA-512 as the component's KafkaUser, the password and the CA
mounted as files (kepu.kafkaVolumes / kepu.kafkaMounts).
*/}}
{{- define "kepu.kafkaEnv" -}}
{{- if eq (include "kepu.kafkaSecure" .) "true" -}}
- name: KAFKA_SECURITY_PROTOCOL
  value: SASL_SSL
- name: KAFKA_SASL_MECHANISM
  value: SCRAM-SHA-512
- name: KAFKA_SASL_USERNAME
  value: {{ include "kepu.kafkaUser" . | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: /var/run/kepu/kafka-user/password
- name: KAFKA_SSL_CAFILE
  value: /var/run/kepu/kafka-ca/ca.crt
{{- end -}}
{{- end -}}

{{- define "kepu.kafkaVolumes" -}}
{{- if eq (include "kepu.kafkaSecure" .) "true" -}}
- name: kafka-user
  secret:
    secretName: {{ include "kepu.kafkaUser" . }}
    items: [{key: password, path: password}]
    defaultMode: 0400
- name: kafka-ca
  secret:
    secretName: {{ printf "%s-cluster-ca-cert" (include "kepu.kafkaCluster" .) }}
    items: [{key: ca.crt, path: ca.crt}]
    defaultMode: 0444
{{- end -}}
{{- end -}}

{{- define "kepu.kafkaMounts" -}}
{{- if eq (include "kepu.kafkaSecure" .) "true" -}}
- name: kafka-user
  mountPath: /var/run/kepu/kafka-user
  readOnly: true
- name: kafka-ca
  mountPath: /var/run/kepu/kafka-ca
  readOnly: true
{{- end -}}
{{- end -}}

{{/*
Spread the replicas of one role over nodes and zones (best effort: a small cluster with one
zone still schedules). Call with (dict "ctx" $ "role" "serve").
*/}}
{{- define "kepu.topologySpread" -}}
{{- $selector := include "kepu.selectorLabels" (dict "ctx" .ctx "role" .role) -}}
{{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
- maxSkew: 1
  topologyKey: {{ $key }}
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- $selector | nindent 6 }}
{{- end }}
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
