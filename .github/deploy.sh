#!/usr/bin/env bash
# The deployment pipeline's steps (.github/workflows/deploy.yml), runnable by hand with the
# same role: deploy <env> | spa <env> | smoke <env>. Needs the AWS CLI v2, Go and Node, and
# build/lambda and frontend/dist/portico/browser from the build job (or `make build` and
# the SPA build).
set -euo pipefail
cd "$(dirname "$0")/.."

step=${1:?usage: deploy.sh deploy|spa|smoke <env>}
env=${2:?usage: deploy.sh deploy|spa|smoke <env>}
case "$env" in uat | prod) ;; *) echo "unknown environment $env" >&2; exit 2 ;; esac
stack="Portico-$env"

out() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

case "$step" in
deploy)
  # Artifacts lose their mode between jobs; Lambda runs bootstrap only when executable.
  chmod +x build/lambda/*/bootstrap
  cd infra
  npm install --no-audit --no-fund
  npx cdk deploy --all -c env="$env" --require-approval never --progress events
  ;;
spa)
  aws s3 sync frontend/dist/portico/browser "s3://$(out SpaBucket)/" --delete
  aws cloudfront create-invalidation --distribution-id "$(out DistributionId)" --paths '/index.html' '/'
  ;;
smoke)
  PORTICO_SERVICES_URL=$(out ApiUrl)
  PORTICO_ISSUER=$(out Issuer)
  PORTICO_CLIENT_ID=$(out MachineClientId)
  PORTICO_CLIENT_SECRET=$(aws secretsmanager get-secret-value --secret-id "$(out MachineClientSecretArn)" \
    --query SecretString --output text)
  export PORTICO_SERVICES_URL PORTICO_ISSUER PORTICO_CLIENT_ID PORTICO_CLIENT_SECRET
  echo "::add-mask::$PORTICO_CLIENT_SECRET"
  go run ./services/cmd/portico -timeout 10m smoke
  ;;
*)
  echo "unknown step $step" >&2
  exit 2
  ;;
esac
