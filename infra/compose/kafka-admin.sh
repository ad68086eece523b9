#!/bin/sh
# Run a Kafka command-line tool as the cluster's `admin` user (SASL PLAIN): the
# listeners take no anonymous client, so the healthcheck and the ACL one-shot log in.
# The password comes from the environment (POPREG_KAFKA_ADMIN_PASSWORD) into a
# client-properties file readable by this user only, removed when the tool exits.
#   kafka-admin.sh kafka-broker-api-versions.sh --bootstrap-server localhost:9092
set -eu
umask 077
props=$(mktemp)
trap 'rm -f "$props"' EXIT
cat > "$props" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${POPREG_KAFKA_ADMIN_PASSWORD}";
PROPERTIES
tool=$1
shift
"/opt/kafka/bin/$tool" --command-config "$props" "$@"
