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
# Schema Registry: its own topic and group.
acl --allow-principal User:schemaregistry --topic _schemas \
    --operation Create --operation Describe --operation DescribeConfigs \
    --operation Read --operation Write
acl --allow-principal User:schemaregistry --group schema-registry --operation Read --operation Describe
acl --allow-principal User:schemaregistry --cluster --operation Describe
echo "ACLs in place:"
/bin/sh /popreg/kafka-admin.sh kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --list
