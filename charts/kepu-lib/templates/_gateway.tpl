{{/*
The gateway: REST/JSON for the portal and partners, forwarding to the services over gRPC.
Usage: {{ include "kepu.gateway" . }}
*/}}
{{- define "kepu.gateway" -}}
{{- $ := . -}}
{{- $v := .Values -}}
{{ include "kepu.serviceAccount" $ }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "kepu.fullname" $ }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" "serve") | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "kepu.selectorLabels" (dict "ctx" $ "role" "serve") | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "kepu.labels" (dict "ctx" $ "role" "serve") | nindent 8 }}
    spec:
      serviceAccountName: {{ include "kepu.fullname" $ }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "kepu.podSecurityContext" $ | nindent 8 }}
      {{- with $v.global.image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        {{- include "kepu.topologySpread" (dict "ctx" $ "role" "serve") | nindent 8 }}
      containers:
        - name: gateway
          image: {{ include "kepu.image" $ | quote }}
          imagePullPolicy: {{ $v.global.image.pullPolicy }}
          args:
            {{- toYaml $v.command | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          env:
            - name: GATEWAY_PORT
              value: {{ $v.port | quote }}
            {{- range $v.grpcTargets }}
            - name: {{ printf "%s_GRPC_TARGET" (upper .) }}
              value: {{ printf "%s-%s:%d" $.Release.Name . (int $v.serviceGrpcPort) | quote }}
            {{- end }}
            - name: PUBLIC_BASE_URL
              value: {{ printf "https://%s" $v.ingress.host | quote }}
            {{- include "kepu.commonEnv" (dict "ctx" $ "role" "gateway") | nindent 12 }}
          startupProbe:
            httpGet:
              path: {{ $v.probes.livenessPath }}
              port: http
            periodSeconds: 5
            failureThreshold: 30
          readinessProbe:
            httpGet:
              path: {{ $v.probes.readinessPath }}
              port: http
            periodSeconds: 10
            timeoutSeconds: 3
          livenessProbe:
            httpGet:
              path: {{ $v.probes.livenessPath }}
              port: http
            periodSeconds: 20
            timeoutSeconds: 5
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "kepu.containerSecurityContext" $ | nindent 12 }}
          volumeMounts:
            {{- include "kepu.tmpMount" $ | nindent 12 }}
      volumes:
        {{- include "kepu.tmpVolume" $ | nindent 8 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "kepu.fullname" $ }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" "serve") | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "kepu.selectorLabels" (dict "ctx" $ "role" "serve") | nindent 4 }}
  ports:
    - name: http
      port: 80
      targetPort: http
{{- if $v.ingress.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "kepu.fullname" $ }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" "serve") | nindent 4 }}
  {{- with $v.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with $v.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  tls:
    - hosts: [{{ $v.ingress.host | quote }}]
      secretName: {{ $v.ingress.tlsSecret | default (printf "%s-tls" (include "kepu.fullname" $)) }}
  rules:
    - host: {{ $v.ingress.host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ include "kepu.fullname" $ }}
                port:
                  name: http
{{- end }}
{{- if $v.autoscaling.enabled }}
{{ include "kepu.hpa" (dict "ctx" $ "name" (include "kepu.fullname" $) "role" "serve" "spec" $v.autoscaling) }}
{{- end }}
{{ include "kepu.pdb" (dict "ctx" $ "role" "serve") }}
{{- end -}}
