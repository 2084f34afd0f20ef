{{/*
Environment of one service container: the process contract of SPEC section 10.
Call with (dict "ctx" $ "owner" true|false "role" "serve|relay|worker|migrate").
The owner (migration) credentials only reach the migration Job: the long-running
processes connect as the application role, which has no BYPASSRLS and owns no table.
Passwords come from Secrets and are spliced into the URLs with $(VAR) expansion,
so they never appear in the rendered manifest.
*/}}
{{- define "kepu.serviceEnv" -}}
{{- $ := .ctx -}}
{{- $v := $.Values -}}
{{- $g := $v.global -}}
{{- $svc := upper $v.component -}}
{{- $db := $v.database.name | default $v.component -}}
{{- $host := include "kepu.pgHost" $ -}}
{{- $params := $g.postgres.params -}}
{{- /* The percent-encoded password (charts/kepu-data): @ : / in a password cannot break the URL. */ -}}
{{- $pwKey := $g.postgres.passwordKey | default "password-urlencoded" -}}
- name: KEPU_PG_APP_USER
  valueFrom:
    secretKeyRef:
      name: {{ $v.database.appSecret | default (include "kepu.pgAppSecret" $) }}
      key: username
- name: KEPU_PG_APP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.database.appSecret | default (include "kepu.pgAppSecret" $) }}
      key: {{ $pwKey }}
- name: {{ $svc }}_DATABASE_URL
  value: {{ printf "postgresql://$(KEPU_PG_APP_USER):$(KEPU_PG_APP_PASSWORD)@%s:%d/%s%s" $host (int $g.postgres.port) $db (ternary (printf "?%s" $params) "" (ne $params "")) | quote }}
{{- if .owner }}
- name: KEPU_PG_OWNER_USER
  valueFrom:
    secretKeyRef:
      name: {{ $v.database.ownerSecret | default (include "kepu.pgOwnerSecret" (dict "ctx" $ "svc" $v.component)) }}
      key: username
- name: KEPU_PG_OWNER_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.database.ownerSecret | default (include "kepu.pgOwnerSecret" (dict "ctx" $ "svc" $v.component)) }}
      key: {{ $pwKey }}
- name: {{ $svc }}_MIGRATION_DATABASE_URL
  value: {{ printf "postgresql://$(KEPU_PG_OWNER_USER):$(KEPU_PG_OWNER_PASSWORD)@%s:%d/%s%s" $host (int $g.postgres.port) $db (ternary (printf "?%s" $params) "" (ne $params "")) | quote }}
{{- end }}
- name: KEPU_APP_ROLE
  value: {{ $g.postgres.appRole | quote }}
- name: {{ $svc }}_GRPC_PORT
  value: {{ $v.grpcPort | quote }}
# Listen on the pod's interfaces (the local default is loopback only).
- name: {{ $svc }}_GRPC_HOST
  value: "0.0.0.0"
- name: KEPU_BIND_HOST
  value: "0.0.0.0"
{{ include "kepu.commonEnv" (dict "ctx" $ "role" .role) }}
{{- end -}}

{{/* Environment every Kepu process gets (services and gateway). */}}
{{- define "kepu.commonEnv" -}}
{{- $ := .ctx -}}
{{- $v := $.Values -}}
{{- $g := $v.global -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "kepu.kafkaBootstrap" $ | quote }}
# Apache Kafka answers a waiting fetch as soon as a record arrives: a long wait costs no lag and
# saves an idle consumer's fetch loop (kepu_common.bus.FETCH_MAX_WAIT_MS; Tansu keeps 500 ms).
- name: KAFKA_FETCH_MAX_WAIT_MS
  value: "5000"
- name: OIDC_ISSUER
  value: {{ include "kepu.oidcIssuer" $ | quote }}
- name: OIDC_JWKS_URL
  value: {{ include "kepu.oidcJwksUrl" $ | quote }}
- name: OIDC_AUDIENCE
  value: {{ $g.oidc.audience | quote }}
- name: IDP
  value: {{ $v.idp | default $g.idp | quote }}
- name: ADMIN_MFA
  value: {{ $v.adminMfa | default $g.adminMfa | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $g.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "kepu-%s" $v.component | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=kepu,deployment.environment=%s,kepu.process=%s" $g.environment .role | quote }}
- name: LOG_LEVEL
  value: {{ $g.logLevel | quote }}
- name: LOG_FORMAT
  value: json
{{- if or (eq .role "relay") (eq .role "worker") }}
- name: KEPU_HEARTBEAT_FILE
  value: /tmp/kepu-heartbeat
{{- end }}
{{- if has .role (list "serve" "relay" "worker") }}
# /metrics of this process (kepu_common.metrics), scraped by Prometheus.
- name: KEPU_METRICS_PORT
  value: {{ $v.metricsPort | default 9464 | quote }}
{{- end }}
{{- range $name, $value := $v.env }}
- name: {{ $name }}
  value: {{ tpl (toString $value) $ | quote }}
{{- end }}
{{- range $v.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ tpl .secret $ }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}
