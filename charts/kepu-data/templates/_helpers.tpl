{{/*
Names: every object is named after the charts/kepu release it serves (.Values.instance),
as charts/kepu-lib derives them: <instance>-pg, <instance>-pg-app, <instance>-<svc>-keys.
*/}}
{{- define "kepudata.cluster" -}}
{{- printf "%s-pg" .Values.instance -}}
{{- end -}}

{{- define "kepudata.labels" -}}
app.kubernetes.io/instance: {{ .Values.instance }}
app.kubernetes.io/part-of: kepu
app.kubernetes.io/component: data
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Every data-plane object outlives an uninstall (and is never a hook). */}}
{{- define "kepudata.keep" -}}
helm.sh/resource-policy: keep
{{- end -}}

{{/*
A value generated once: the one already in the cluster (Secret .name, key .key, decoded),
else .fresh. `helm upgrade` and a reinstall therefore never change a password or a key.
*/}}
{{- define "kepudata.existing" -}}
{{- $found := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
{{- if and $found $found.data (hasKey $found.data .key) -}}
{{- index $found.data .key | b64dec -}}
{{- else -}}
{{- .fresh -}}
{{- end -}}
{{- end -}}

{{/*
Percent-encoding for the userinfo of a connection URL (libpq decodes %XX only, so a space
must be %20, not the "+" of urlquery). Call with the raw string.
*/}}
{{- define "kepudata.urlencode" -}}
{{- . | urlquery | replace "+" "%20" -}}
{{- end -}}

{{/* A basic-auth Secret for a PostgreSQL role (the form CloudNativePG managed roles read). */}}
{{- define "kepudata.roleSecret" -}}
{{- $external := index .ctx.Values.roleSecrets.external .role | default "" -}}
{{- $password := $external | default (include "kepudata.existing" (dict "ctx" .ctx "name" .name "key" "password" "fresh" (randAlphaNum 32))) -}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/basic-auth
metadata:
  name: {{ .name }}
  labels:
    {{- include "kepudata.labels" .ctx | nindent 4 }}
    cnpg.io/reload: "true"
  annotations:
    {{- include "kepudata.keep" .ctx | nindent 4 }}
stringData:
  username: {{ .role | quote }}
  password: {{ $password | quote }}
  # What kepu-lib splices into <SVC>_DATABASE_URL: safe with @ : / and spaces.
  password-urlencoded: {{ include "kepudata.urlencode" $password | quote }}
{{- end -}}
