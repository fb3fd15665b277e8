#!/bin/sh
# The media bucket (private) and the app's access key, limited to that bucket, on the compose stack's MinIO.
# Run by the `minio-setup` service (minio/mc image) on every `docker compose up`, so every step tolerates
# "already done": the bucket exists, the policy and the user are updated in place, and the policy is attached
# only once (`mc admin policy attach` fails when it already is). tests/test_compose.py runs it twice.
#
# Environment: MC_HOST_local (MinIO's URL with its root credentials), BUCKET, APP_ACCESS_KEY, APP_SECRET_KEY.
set -eu

: "${MC_HOST_local:?MC_HOST_local is required (http://root-user:root-password@minio:9000)}"
: "${BUCKET:?BUCKET is required}"
: "${APP_ACCESS_KEY:?APP_ACCESS_KEY is required}"
: "${APP_SECRET_KEY:?APP_SECRET_KEY is required}"

POLICY=learning-app
policy_file="${TMPDIR:-/tmp}/learning-app-policy.json"

mc mb --ignore-existing "local/${BUCKET}"
mc anonymous set none "local/${BUCKET}"

# printf, a shell builtin: the mc image has few other programs.
printf '%s\n' \
    '{"Version": "2012-10-17", "Statement": [' \
    '  {"Effect": "Allow",' \
    '   "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],' \
    "   \"Resource\": [\"arn:aws:s3:::${BUCKET}\"]}," \
    '  {"Effect": "Allow",' \
    '   "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",' \
    '              "s3:ListMultipartUploadParts"],' \
    "   \"Resource\": [\"arn:aws:s3:::${BUCKET}/*\"]}]}" \
    > "${policy_file}"
# Both replace what is there: a changed policy or secret takes effect on the next `up`.
mc admin policy create local "${POLICY}" "${policy_file}"
mc admin user add local "${APP_ACCESS_KEY}" "${APP_SECRET_KEY}"

# Attach, unless already attached: mc then fails with MinIO's "The specified policy change is already in
# effect." (XMinioAdminPolicyChangeAlreadyApplied); any other failure stops the set-up.
if ! output=$(mc admin policy attach local "${POLICY}" --user "${APP_ACCESS_KEY}" 2>&1); then
    case "${output}" in
        *"policy change is already in effect"*) echo "policy ${POLICY} already attached to ${APP_ACCESS_KEY}" ;;
        *) echo "${output}" >&2; exit 1 ;;
    esac
else
    echo "${output}"
fi

echo "bucket ${BUCKET} and access key ${APP_ACCESS_KEY} ready"
