#!/bin/sh
# The cluster's ACLs (StandardAuthorizer with allow.everyone.if.no.acl.found=false:
# what is not granted here is refused). Adding an ACL that exists changes nothing, so
# this runs on every `docker compose up`.
set -eu
acl() {
    /bin/sh /popreg/kafka-admin.sh kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --add "$@"
}
# popreg: its topics (events, rejections, health check) and consumer groups.
acl --allow-principal User:popreg --resource-pattern-type prefixed --topic popreg. \
    --operation Create --operation Describe --operation DescribeConfigs \
    --operation Read --operation Write
acl --allow-principal User:popreg --resource-pattern-type prefixed --group popreg \
    --operation Read --operation Describe
acl --allow-principal User:popreg --cluster --operation Describe --operation IdempotentWrite
# A province-level source system (here Cà Mau's, province 96) that publishes events
# straight to Kafka: it may write the events topic and nothing else: no read, no
# other topic, no group. The gateway's check of what a commune may change does not
# reach such a producer, so only province-level systems get a principal; commune-level
# sources publish through the gateway (docs/publishing.md).
acl --allow-principal User:source96 --topic popreg.vital-events \
    --operation Write --operation Describe
acl --allow-principal User:source96 --cluster --operation IdempotentWrite
# Schema Registry: its own topic and group.
acl --allow-principal User:schemaregistry --topic _schemas \
    --operation Create --operation Describe --operation DescribeConfigs \
    --operation Read --operation Write
acl --allow-principal User:schemaregistry --group schema-registry --operation Read --operation Describe
acl --allow-principal User:schemaregistry --cluster --operation Describe
echo "ACLs in place:"
/bin/sh /popreg/kafka-admin.sh kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --list
