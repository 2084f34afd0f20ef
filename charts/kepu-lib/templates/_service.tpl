{{/*
One Kepu service: `python -m kepu_<svc> serve | relay | worker | migrate`.
Usage in a component chart: {{ include "kepu.service" . }}
*/}}
{{- define "kepu.service" -}}
{{- $ := . -}}
{{- $v := .Values -}}
{{ include "kepu.serviceAccount" $ }}
{{ include "kepu.deployment" (dict "ctx" $ "role" "serve" "spec" $v.serve) }}
{{- with $v.serve.autoscaling }}
{{- if .enabled }}
{{ include "kepu.hpa" (dict "ctx" $ "name" (printf "%s-serve" (include "kepu.fullname" $)) "role" "serve" "spec" .) }}
{{- end }}
{{- end }}
{{- if $v.relay.enabled }}
{{ include "kepu.deployment" (dict "ctx" $ "role" "relay" "spec" $v.relay) }}
{{- end }}
{{- if $v.worker.enabled }}
{{ include "kepu.deployment" (dict "ctx" $ "role" "worker" "spec" $v.worker) }}
{{- end }}
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
    - name: grpc
      port: {{ $v.grpcPort }}
      targetPort: grpc
      appProtocol: grpc
    {{- range $v.extraPorts }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
    {{- end }}
{{ include "kepu.pdb" (dict "ctx" $ "role" "serve") }}
{{- if $v.migration.enabled }}
{{ include "kepu.migrationJob" $ }}
{{- end }}
{{- end -}}

{{- define "kepu.serviceAccount" -}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "kepu.fullname" . }}
  labels:
    {{- include "kepu.labels" (dict "ctx" . "role" "serve") | nindent 4 }}
automountServiceAccountToken: false
{{- end -}}

{{/*
A HorizontalPodAutoscaler on CPU (and memory when given). Call with (dict "ctx" $ "name"
<Deployment> "role" "serve" "spec" {minReplicas, maxReplicas, targetCPUUtilizationPercentage,
targetMemoryUtilizationPercentage}). The Deployment then leaves its replica count to it.
*/}}
{{- define "kepu.hpa" -}}
{{- $ := .ctx -}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" .role) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ .spec.minReplicas }}
  maxReplicas: {{ .spec.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .spec.targetCPUUtilizationPercentage }}
    {{- with .spec.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end -}}

{{- define "kepu.pdb" -}}
{{- $ := .ctx -}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ printf "%s-%s" (include "kepu.fullname" $) .role }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" .role) | nindent 4 }}
spec:
  {{- if $.Values.pdb.minAvailable }}
  minAvailable: {{ $.Values.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $.Values.pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "kepu.selectorLabels" (dict "ctx" $ "role" .role) | nindent 6 }}
{{- end -}}

{{/*
Probes. serve answers the gRPC health protocol; relay and worker have no port, so they
touch $KEPU_HEARTBEAT_FILE on every loop and the probe checks the file is fresh.
*/}}
{{- define "kepu.probes" -}}
{{- $ := .ctx -}}
{{- if eq .role "serve" -}}
startupProbe:
  grpc:
    port: {{ $.Values.grpcPort }}
  periodSeconds: 5
  failureThreshold: 30
readinessProbe:
  grpc:
    port: {{ $.Values.grpcPort }}
  periodSeconds: 10
  timeoutSeconds: 3
livenessProbe:
  grpc:
    port: {{ $.Values.grpcPort }}
    service: liveness  # always SERVING while the process answers; "" follows the database
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 3
{{- else -}}
{{- $age := $.Values.heartbeat.maxAgeMinutes | default 2 -}}
startupProbe:
  exec:
    command: ["sh", "-c", "test -f /tmp/kepu-heartbeat"]
  periodSeconds: 5
  failureThreshold: 60
readinessProbe:
  exec:
    command: ["sh", "-c", {{ printf "test -n \"$(find /tmp/kepu-heartbeat -mmin -%v)\"" $age | quote }}]
  periodSeconds: 30
livenessProbe:
  exec:
    command: ["sh", "-c", {{ printf "test -n \"$(find /tmp/kepu-heartbeat -mmin -%v)\"" $age | quote }}]
  periodSeconds: 60
  failureThreshold: 3
{{- end -}}
{{- end -}}

{{- define "kepu.deployment" -}}
{{- $ := .ctx -}}
{{- $v := $.Values -}}
{{- $spec := .spec -}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-%s" (include "kepu.fullname" $) .role }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" .role) | nindent 4 }}
spec:
  {{- if not (and (eq .role "serve") ($spec.autoscaling | default dict).enabled) }}
  replicas: {{ $spec.replicas }}
  {{- end }}
  {{- if ne .role "serve" }}
  # relay and worker poll the outbox / consume Kafka; a second copy during a rollout is harmless
  # (the relay claims rows with SKIP LOCKED, consumers are idempotent) but not needed.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "kepu.selectorLabels" (dict "ctx" $ "role" .role) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "kepu.labels" (dict "ctx" $ "role" .role) | nindent 8 }}
      {{- with $v.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "kepu.fullname" $ }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "kepu.podSecurityContext" $ | nindent 8 }}
      {{- with $v.global.image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: 30
      topologySpreadConstraints:
        {{- include "kepu.topologySpread" (dict "ctx" $ "role" .role) | nindent 8 }}
      containers:
        - name: {{ .role }}
          image: {{ include "kepu.image" $ | quote }}
          imagePullPolicy: {{ $v.global.image.pullPolicy }}
          args: ["python", "-m", {{ printf "kepu_%s" $v.component | quote }}, {{ .role | quote }}]
          ports:
            {{- if eq .role "serve" }}
            - name: grpc
              containerPort: {{ $v.grpcPort }}
              protocol: TCP
            {{- range $v.extraPorts }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
            {{- end }}
            - name: metrics
              containerPort: {{ $v.metricsPort | default 9464 }}
              protocol: TCP
          env:
            {{- include "kepu.serviceEnv" (dict "ctx" $ "owner" false "role" .role) | nindent 12 }}
            {{- include "kepu.kafkaEnv" $ | nindent 12 }}
          {{- include "kepu.probes" (dict "ctx" $ "role" .role) | nindent 10 }}
          resources:
            {{- toYaml $spec.resources | nindent 12 }}
          securityContext:
            {{- include "kepu.containerSecurityContext" $ | nindent 12 }}
          volumeMounts:
            {{- include "kepu.tmpMount" $ | nindent 12 }}
            {{- include "kepu.kafkaMounts" $ | nindent 12 }}
      volumes:
        {{- include "kepu.tmpVolume" $ | nindent 8 }}
        {{- include "kepu.kafkaVolumes" $ | nindent 8 }}
{{- end -}}

{{/*
Schema migrations run before the new pods start, on install and on upgrade, as the
database owner. The init container waits for PostgreSQL, which on a first install is
still starting when the hook runs.
*/}}
{{- define "kepu.migrationJob" -}}
{{- $ := . -}}
{{- $v := .Values -}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-migrate" (include "kepu.fullname" $) }}
  labels:
    {{- include "kepu.labels" (dict "ctx" $ "role" "migrate") | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $v.migration.backoffLimit }}
  activeDeadlineSeconds: {{ $v.migration.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        {{- include "kepu.labels" (dict "ctx" $ "role" "migrate") | nindent 8 }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ include "kepu.fullname" $ }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "kepu.podSecurityContext" $ | nindent 8 }}
      {{- with $v.global.image.pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      initContainers:
        - name: wait-for-postgres
          image: {{ include "kepu.image" $ | quote }}
          imagePullPolicy: {{ $v.global.image.pullPolicy }}
          args:
            - python
            - -c
            - |
              import os, socket, sys, time
              address = (os.environ["KEPU_PG_HOST"], int(os.environ["KEPU_PG_PORT"]))
              for _ in range(180):
                  try:
                      socket.create_connection(address, 3).close()
                      sys.exit(0)
                  except OSError:
                      time.sleep(5)
              sys.exit("PostgreSQL did not come up")
          env:
            - name: KEPU_PG_HOST
              value: {{ include "kepu.pgHost" $ | quote }}
            - name: KEPU_PG_PORT
              value: {{ $v.global.postgres.port | quote }}
          resources:
            {{- toYaml $v.migration.resources | nindent 12 }}
          securityContext:
            {{- include "kepu.containerSecurityContext" $ | nindent 12 }}
      containers:
        - name: migrate
          image: {{ include "kepu.image" $ | quote }}
          imagePullPolicy: {{ $v.global.image.pullPolicy }}
          args: ["python", "-m", {{ printf "kepu_%s" $v.component | quote }}, "migrate"]
          env:
            {{- include "kepu.serviceEnv" (dict "ctx" $ "owner" true "role" "migrate") | nindent 12 }}
          resources:
            {{- toYaml $v.migration.resources | nindent 12 }}
          securityContext:
            {{- include "kepu.containerSecurityContext" $ | nindent 12 }}
          volumeMounts:
            {{- include "kepu.tmpMount" $ | nindent 12 }}
      volumes:
        {{- include "kepu.tmpVolume" $ | nindent 8 }}
{{- end -}}
