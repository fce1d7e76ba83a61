// Package pipeline holds the checks of the deployment pipeline, the GitHub Actions workflow
// .github/workflows/deploy.yml and its steps script .github/deploy.sh (docs/deploy.md, "The
// deployment pipeline"). It has no code of its own.
package pipeline
