{{/*
The install Jobs of identity (hooks): `seed --no-demo`, `bootstrap-admin`, `distribute`.
Call with (dict "ctx" $ "role" "seed" "container" "seed" "hook" "pre-install" "weight" 5
  "deletePolicy" "before-hook-creation" "spec" $v.seed "args" (list ...)
  "serviceAccount" "" "automountToken" false "waitReady" false "extraEnv" (list ...)).
With waitReady, an init container waits (bounded by readiness.timeoutSeconds) until the
identity service answers and, with IDP=keycloak, until the Keycloak realm does: a
post-install hook starts as soon as the release's objects exist, not when they are ready.
*/}}
{{- define "identity.installJob" -}}
{{- $ := .ctx -}}
{{- $v := $.Values -}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-%s" (include "kepu.fullname" $) .role }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" .role) | nindent 4 }}
  annotations:
    helm.sh/hook: {{ .hook }}
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: {{ .deletePolicy }}
spec:
  backoffLimit: {{ .spec.backoffLimit }}
  activeDeadlineSeconds: {{ .spec.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "kepu.labels" (dict "ctx" $ "role" .role) | nindent 8 }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ .serviceAccount | default (include "kepu.fullname" $) }}
      automountServiceAccountToken: {{ .automountToken }}
      securityContext:
        {{- include "kepu.podSecurityContext" $ | nindent 8 }}
      {{- with $v.global.image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .waitReady }}
      initContainers:
        - name: wait-ready
          image: {{ include "kepu.image" $ | quote }}
          imagePullPolicy: {{ $v.global.image.pullPolicy }}
          args: ["python", "-m", "kepu_identity", "wait-ready", "--timeout", {{ $v.readiness.timeoutSeconds | quote }}]
          env:
            - name: IDENTITY_GRPC_TARGET
              value: {{ printf "%s:%d" (include "kepu.fullname" $) (int $v.grpcPort) | quote }}
            - name: IDP
              value: {{ $v.idp | default $v.global.idp | quote }}
            - name: KEYCLOAK_URL
              value: {{ tpl (toString $v.env.KEYCLOAK_URL) $ | quote }}
            - name: KEYCLOAK_REALM
              value: {{ $v.env.KEYCLOAK_REALM | quote }}
          resources:
            {{- toYaml $v.readiness.resources | nindent 12 }}
          securityContext:
            {{- include "kepu.containerSecurityContext" $ | nindent 12 }}
      {{- end }}
      containers:
        - name: {{ .container }}
          image: {{ include "kepu.image" $ | quote }}
          imagePullPolicy: {{ $v.global.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          env:
            {{- with .extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- include "kepu.serviceEnv" (dict "ctx" $ "owner" false "role" .role) | nindent 12 }}
          resources:
            {{- toYaml .spec.resources | nindent 12 }}
          securityContext:
            {{- include "kepu.containerSecurityContext" $ | nindent 12 }}
          volumeMounts:
            {{- include "kepu.tmpMount" $ | nindent 12 }}
      volumes:
        {{- include "kepu.tmpVolume" $ | nindent 8 }}
{{- end -}}

{{/* The Secret holding the first admin's username and initial password. */}}
{{- define "identity.bootstrapSecret" -}}
{{- .Values.bootstrapAdmin.existingSecret | default (printf "%s-identity-bootstrap-admin" .Release.Name) -}}
{{- end -}}
