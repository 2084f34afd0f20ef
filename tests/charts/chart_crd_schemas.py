"""Minimal JSON schemas for the operator kinds the umbrella chart renders.

kubernetes-validate only knows built-in kinds. These schemas hold the parts of each
operator's CRD that our manifests use and that the operator rejects when wrong (required
fields, types, enums), taken from CloudNativePG 1.30 (and its Barman Cloud plugin),
prometheus-operator's PrometheusRule, Strimzi 1.0.1 (`kafka.strimzi.io/v1`,
packaging/install/cluster-operator/04x-Crd-*.yaml) and Keycloak 26's CRDs.
Unknown fields are refused where the CRD itself is structural, so a typo fails here.
"""

from __future__ import annotations

from typing import Any

STR = {"type": "string", "minLength": 1}
INT = {"type": "integer", "minimum": 0}
BOOL = {"type": "boolean"}
SECRET_REF = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": STR},
    "additionalProperties": False,
}
SECRET_KEY_REF = {
    "type": "object",
    "required": ["name", "key"],
    "properties": {"name": STR, "key": STR},
    "additionalProperties": False,
}
RESOURCES = {
    "type": "object",
    "properties": {"requests": {"type": "object"}, "limits": {"type": "object"}},
    "additionalProperties": False,
}


def _kind(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "spec": spec,
        },
        "additionalProperties": False,
    }


CNPG_ROLE = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": STR,
        "ensure": {"enum": ["present", "absent"]},
        "login": BOOL,
        "superuser": BOOL,
        "createdb": BOOL,
        "createrole": BOOL,
        "bypassrls": BOOL,
        "inherit": BOOL,
        "replication": BOOL,
        "passwordSecret": SECRET_REF,
        "inRoles": {"type": "array", "items": STR},
    },
    "additionalProperties": False,
}

# A CNPG-I plugin entry (CloudNativePG 1.26+), e.g. the Barman Cloud plugin.
CNPG_PLUGIN = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": STR,
        "enabled": BOOL,
        "isWALArchiver": BOOL,
        "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}

CLUSTER = _kind(
    "postgresql.cnpg.io/v1",
    "Cluster",
    {
        "type": "object",
        "required": ["instances", "storage"],
        "properties": {
            "instances": {"type": "integer", "minimum": 1},
            "imageName": STR,
            "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
            "enableSuperuserAccess": BOOL,
            "storage": {
                "type": "object",
                "required": ["size"],
                "properties": {"size": STR, "storageClass": STR},
                "additionalProperties": False,
            },
            "resources": RESOURCES,
            "postgresql": {
                "type": "object",
                "properties": {
                    "parameters": {"type": "object", "additionalProperties": {"type": "string"}}
                },
            },
            "affinity": {
                "type": "object",
                "properties": {
                    "enablePodAntiAffinity": BOOL,
                    "podAntiAffinityType": {"enum": ["preferred", "required"]},
                    "topologyKey": STR,
                },
                "additionalProperties": False,
            },
            "plugins": {"type": "array", "items": CNPG_PLUGIN},
            "externalClusters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": STR, "plugin": CNPG_PLUGIN},
                    "additionalProperties": False,
                },
            },
            "bootstrap": {
                "type": "object",
                "properties": {
                    "recovery": {
                        "type": "object",
                        "required": ["source"],
                        "properties": {
                            "source": STR,
                            "recoveryTarget": {
                                "type": "object",
                                "properties": {"targetTime": STR},
                                "additionalProperties": False,
                            },
                        },
                        "additionalProperties": False,
                    },
                    "initdb": {
                        "type": "object",
                        "properties": {
                            "database": STR,
                            "owner": STR,
                            "postInitSQL": {"type": "array", "items": STR},
                            "postInitTemplateSQL": {"type": "array", "items": STR},
                            "postInitApplicationSQL": {"type": "array", "items": STR},
                        },
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
            "managed": {
                "type": "object",
                "properties": {"roles": {"type": "array", "items": CNPG_ROLE}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
)

DATABASE = _kind(
    "postgresql.cnpg.io/v1",
    "Database",
    {
        "type": "object",
        "required": ["name", "owner", "cluster"],
        "properties": {
            "name": STR,
            "owner": STR,
            "cluster": SECRET_REF,
            "ensure": {"enum": ["present", "absent"]},
            "databaseReclaimPolicy": {"enum": ["retain", "delete"]},
            "extensions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": STR,
                        "ensure": {"enum": ["present", "absent"]},
                        "version": STR,
                        "schema": STR,
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
)

# Strimzi v1: `.spec` is required in every kind (0.49); the Kafka kind has no ZooKeeper,
# replicas, storage or resources of its own any more (they live in KafkaNodePool).
KAFKA = _kind(
    "kafka.strimzi.io/v1",
    "Kafka",
    {
        "type": "object",
        "required": ["kafka"],
        "properties": {
            "kafka": {
                "type": "object",
                "required": ["listeners"],
                "properties": {
                    "version": STR,
                    "metadataVersion": STR,
                    "listeners": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name", "port", "type", "tls"],
                            "properties": {
                                "name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
                                "port": {"type": "integer", "minimum": 9092},
                                "type": {
                                    "enum": [
                                        "internal",
                                        "route",
                                        "loadbalancer",
                                        "nodeport",
                                        "ingress",
                                        "cluster-ip",
                                    ]
                                },
                                "tls": BOOL,
                                "authentication": {
                                    "type": "object",
                                    "required": ["type"],
                                    "properties": {
                                        "type": {"enum": ["tls", "scram-sha-512", "custom"]}
                                    },
                                },
                                "networkPolicyPeers": {
                                    "type": "array",
                                    "items": {"type": "object"},
                                },
                            },
                            "additionalProperties": False,
                        },
                    },
                    "authorization": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            "type": {"enum": ["simple", "custom"]},
                            "superUsers": {"type": "array", "items": STR},
                        },
                    },
                    "config": {"type": "object"},
                },
                "additionalProperties": False,
            },
            "entityOperator": {
                "type": "object",
                "properties": {
                    "topicOperator": {"type": "object"},
                    "userOperator": {"type": "object"},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
)

KAFKA_NODE_POOL = _kind(
    "kafka.strimzi.io/v1",
    "KafkaNodePool",
    {
        "type": "object",
        "required": ["replicas", "roles", "storage"],
        "properties": {
            "replicas": {"type": "integer", "minimum": 1},
            "roles": {"type": "array", "items": {"enum": ["controller", "broker"]}, "minItems": 1},
            "resources": RESOURCES,
            "storage": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["ephemeral", "persistent-claim", "jbod"]},
                    "volumes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "type"],
                            "properties": {
                                "id": INT,
                                "type": {"enum": ["ephemeral", "persistent-claim"]},
                                "size": STR,
                                "class": STR,
                                "deleteClaim": BOOL,
                                "kraftMetadata": {"enum": ["shared"]},
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
)

# In v1 partitions and replicas may be left out (broker defaults); ours always set them.
KAFKA_TOPIC = _kind(
    "kafka.strimzi.io/v1",
    "KafkaTopic",
    {
        "type": "object",
        "required": ["partitions", "replicas"],
        "properties": {
            "topicName": STR,
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {"type": "object"},
        },
        "additionalProperties": False,
    },
)

# KafkaUser v1 (one per service). v1 dropped the single `operation` of an ACL rule for the
# `operations` list.
KAFKA_USER = _kind(
    "kafka.strimzi.io/v1",
    "KafkaUser",
    {
        "type": "object",
        "properties": {
            "authentication": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
            },
            "authorization": {
                "type": "object",
                "required": ["type", "acls"],
                "properties": {
                    "type": {"enum": ["simple"]},
                    "acls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["resource", "operations"],
                            "properties": {
                                "resource": {"type": "object"},
                                "operations": {"type": "array", "items": STR},
                                "host": STR,
                                "type": {"enum": ["allow", "deny"]},
                            },
                            "additionalProperties": False,
                        },
                    },
                },
            },
            "quotas": {"type": "object"},
            "template": {"type": "object"},
        },
        "additionalProperties": False,
    },
)

KEYCLOAK = _kind(
    "k8s.keycloak.org/v2alpha1",
    "Keycloak",
    {
        "type": "object",
        "properties": {
            "instances": {"type": "integer", "minimum": 1},
            "image": STR,
            "db": {
                "type": "object",
                "required": ["vendor"],
                "properties": {
                    "vendor": STR,
                    "host": STR,
                    "port": INT,
                    "database": STR,
                    "usernameSecret": SECRET_KEY_REF,
                    "passwordSecret": SECRET_KEY_REF,
                },
                "additionalProperties": False,
            },
            "http": {
                "type": "object",
                "properties": {"httpEnabled": BOOL, "tlsSecret": STR},
                "additionalProperties": False,
            },
            "hostname": {
                "type": "object",
                "properties": {"hostname": STR, "admin": STR, "strict": BOOL},
                "additionalProperties": False,
            },
            "proxy": {
                "type": "object",
                "properties": {"headers": {"enum": ["forwarded", "xforwarded"]}},
                "additionalProperties": False,
            },
            "ingress": {
                "type": "object",
                "properties": {
                    "enabled": BOOL,
                    "className": STR,
                    "tlsSecret": STR,
                    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "additionalProperties": False,
            },
            "resources": RESOURCES,
        },
        "additionalProperties": False,
    },
)

REALM_IMPORT = _kind(
    "k8s.keycloak.org/v2alpha1",
    "KeycloakRealmImport",
    {
        "type": "object",
        "required": ["keycloakCRName", "realm"],
        "properties": {
            "keycloakCRName": STR,
            # The realm is Keycloak's RealmRepresentation: checked field by field in the tests.
            "realm": {"type": "object", "required": ["realm"]},
        },
        "additionalProperties": False,
    },
)

# CloudNativePG 1.30's ScheduledBackup (seconds-first cron) with the plugin method.
SCHEDULED_BACKUP = _kind(
    "postgresql.cnpg.io/v1",
    "ScheduledBackup",
    {
        "type": "object",
        "required": ["schedule", "cluster"],
        "properties": {
            "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},
            "cluster": SECRET_REF,
            "immediate": BOOL,
            "suspend": BOOL,
            "backupOwnerReference": {"enum": ["none", "self", "cluster"]},
            "target": {"enum": ["primary", "prefer-standby"]},
            "method": {"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
            "pluginConfiguration": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": STR, "parameters": {"type": "object"}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
)

# The Barman Cloud plugin's ObjectStore (barmancloud.cnpg.io/v1, api/v1/objectstore_types.go):
# the barman-cloud configuration, no serverName (a plugin parameter of the Cluster instead).
OBJECT_STORE = _kind(
    "barmancloud.cnpg.io/v1",
    "ObjectStore",
    {
        "type": "object",
        "required": ["configuration"],
        "properties": {
            "retentionPolicy": {"type": "string", "pattern": "^[1-9][0-9]*[dwm]$"},
            "configuration": {
                "type": "object",
                "required": ["destinationPath"],
                "not": {"required": ["serverName"]},
                "properties": {
                    "destinationPath": STR,
                    "endpointURL": STR,
                    "endpointCA": SECRET_KEY_REF,
                    "s3Credentials": {
                        "type": "object",
                        "properties": {
                            "accessKeyId": SECRET_KEY_REF,
                            "secretAccessKey": SECRET_KEY_REF,
                        },
                        "additionalProperties": False,
                    },
                    "wal": {"type": "object"},
                    "data": {"type": "object"},
                },
                "additionalProperties": False,
            },
            "instanceSidecarConfiguration": {"type": "object"},
        },
        "additionalProperties": False,
    },
)

# prometheus-operator's PrometheusRule (monitoring.coreos.com/v1).
PROMETHEUS_RULE = _kind(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    {
        "type": "object",
        "required": ["groups"],
        "properties": {
            "groups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "rules"],
                    "properties": {
                        "name": STR,
                        "interval": STR,
                        "rules": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["expr"],
                                "properties": {
                                    "alert": STR,
                                    "record": STR,
                                    "expr": STR,
                                    "for": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h|d)$"},
                                    "labels": {"type": "object"},
                                    "annotations": {"type": "object"},
                                },
                                "additionalProperties": False,
                            },
                        },
                    },
                    "additionalProperties": False,
                },
            }
        },
        "additionalProperties": False,
    },
)

SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    (s["properties"]["apiVersion"]["const"], s["properties"]["kind"]["const"]): s
    for s in (
        CLUSTER,
        DATABASE,
        KAFKA,
        KAFKA_NODE_POOL,
        KAFKA_TOPIC,
        KAFKA_USER,
        KEYCLOAK,
        REALM_IMPORT,
        SCHEDULED_BACKUP,
        OBJECT_STORE,
        PROMETHEUS_RULE,
    )
}
