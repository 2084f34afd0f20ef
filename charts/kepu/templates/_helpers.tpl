{{/*
Annotations for objects created as pre-install hooks: the hook order, and the release
annotations that let Helm adopt them if asHooks is later turned off.
*/}}
{{- define "kepu.hookAnnotations" -}}
{{- if .ctx.Values.postgres.asHooks -}}
helm.sh/hook: pre-install
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/resource-policy: keep
meta.helm.sh/release-name: {{ .ctx.Release.Name }}
meta.helm.sh/release-namespace: {{ .ctx.Release.Namespace }}
{{- end }}
{{- end -}}

{{/* A stable random password: reuse the one already in the cluster, else generate. */}}
{{- define "kepu.password" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
{{- if and $existing $existing.data (hasKey $existing.data "password") -}}
{{- index $existing.data "password" | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}

{{/* A basic-auth Secret for a PostgreSQL role (the form CloudNativePG managed roles read). */}}
{{- define "kepu.roleSecret" -}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/basic-auth
metadata:
  name: {{ .name }}
  labels:
    {{- include "kepu.platformLabels" .ctx | nindent 4 }}
    cnpg.io/reload: "true"
  {{- with include "kepu.hookAnnotations" (dict "ctx" .ctx "weight" -30) }}
  annotations:
    {{- . | nindent 4 }}
  {{- end }}
stringData:
  username: {{ .role }}
  password: {{ include "kepu.password" . | quote }}
{{- end -}}
