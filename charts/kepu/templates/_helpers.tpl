{{/*
The data plane (CloudNativePG Cluster, databases, role and key Secrets) is charts/kepu-data,
installed before this chart and never by a hook (docs/operations.md). This chart renders
the release's own objects; the Kafka and Keycloak objects below are ordinary objects too.
*/}}

{{/* Selector of the pods of one Kepu component (kepu-lib's selector labels). */}}
{{- define "kepu.componentSelector" -}}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/name: {{ .component }}
{{- end -}}

{{/* The services that run with a database, a relay and a worker (the enabled ones). */}}
{{- define "kepu.enabledServices" -}}
{{- $out := list -}}
{{- range .Values.services -}}
{{- if (index $.Values . "enabled") -}}{{- $out = append $out . -}}{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}
